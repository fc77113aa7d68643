// Entry point of badge-fallback.js: hands the strict Ed25519 verifier to badge.js, which
// loads this file (with its SRI hash) only where WebCrypto lacks Ed25519.

import { verifyNoble } from './fallback.js';

/* global FALLBACK_GLOBAL */
globalThis[FALLBACK_GLOBAL] = verifyNoble;
