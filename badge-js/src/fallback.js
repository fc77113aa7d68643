// Ed25519 in script, for browsers whose WebCrypto lacks it: @noble/ed25519 (audited) in its
// strict mode (zip215: false), the RFC 8032 rules closest to ed25519-dalek's verify_strict.
// Its SHA-512 is WebCrypto's digest, which every browser has.

import { verifyAsync } from '@noble/ed25519';

export async function verifyNoble(publicKey, signature, message) {
  try {
    return await verifyAsync(signature, message, publicKey, { zip215: false });
  } catch {
    // An unreadable key or signature is a signature that does not verify.
    return false;
  }
}
