// The registry's key set, read as the Rust core's `keys.rs` reads it: every key an
// Ed25519 OKP key whose kid is its RFC 7638 thumbprint, with an optional use and
// validity window; withdrawn (compromised) key ids listed apart.

import * as b64 from './b64.js';
import { parse } from './json.js';
import { isObject } from './jws.js';
import { isUrlSafeId, shaped, optional, isInt } from './claims.js';

/** A key set the core would refuse: the badge cannot be checked against it. */
export class BadKeySet extends Error {}

// The y coordinates (sign bit cleared) of the eight points of small order, with the two
// non-canonical spellings of 0 and 1: the blocklist libsodium uses. verify_strict refuses
// such a key or signature R; WebCrypto does not promise to.
const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '0000000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Whether a 32-byte point encoding is one of small order (ignoring the sign bit). */
export function isSmallOrder(bytes) {
  const b = Uint8Array.from(bytes);
  b[31] &= 0x7f;
  return SMALL_ORDER.includes(hex(b));
}

// y < p = 2^255 - 19: the only spelling dalek's compression gives back.
function isCanonicalY(bytes) {
  if ((bytes[31] & 0x7f) !== 0x7f) return true;
  for (let i = 30; i > 0; i--) if (bytes[i] !== 0xff) return true;
  return bytes[0] < 0xed;
}

/** RFC 7638 thumbprint of an Ed25519 key given as its base64url `x`. */
export async function thumbprint(x) {
  const canonical = `{"crv":"Ed25519","kty":"OKP","x":"${x}"}`;
  return b64.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical))));
}

const USES = { badge: 'trustmark+jwt', status: 'statuslist+jwt', audit: null };

/** Parses a JWKS document (text). Returns `{keys, withdrawn}` or throws BadKeySet. */
export async function parseJwks(text) {
  let set;
  try {
    set = parse(text);
  } catch {
    throw new BadKeySet();
  }
  const bad = () => {
    throw new BadKeySet();
  };
  if (!isObject(set) || !Array.isArray(set.keys) || set.withdrawn === null || !optional(set.withdrawn, Array.isArray)) bad();
  if (set.keys.length === 0) bad();
  const keys = [];
  const str = (v) => typeof v === 'string';
  for (const k of set.keys) {
    // Members as serde reads them; others are allowed and ignored.
    const ok = shaped(
      k,
      { kty: str, crv: str, x: str, 'd?': str, 'kid?': str, 'alg?': str, 'use?': str, 'valid_from?': isInt, 'valid_until?': isInt, 'trustmark_use?': (u) => str(u) && Object.hasOwn(USES, u) },
      true,
    );
    if (!ok || k.d != null || k.kty !== 'OKP' || k.crv !== 'Ed25519' || !optional(k.alg, (a) => a === 'EdDSA' || a === 'Ed25519')) bad();
    const x = k.x.length === 43 ? b64.decode(k.x) : null;
    if (!x || !isCanonicalY(x)) bad();
    if (isSmallOrder(x)) bad();
    const kid = await thumbprint(k.x);
    if (k.kid != null && k.kid !== kid) bad();
    const from = k.valid_from ?? null;
    const until = k.valid_until ?? null;
    if (from !== null && until !== null && until < from) bad();
    if (keys.some((o) => o.kid === kid)) bad();
    keys.push({ kid, x, use: k.trustmark_use ?? null, from, until });
  }
  const withdrawn = set.withdrawn ?? [];
  withdrawn.forEach((w, i) => {
    if (!shaped(w, { kid: str, withdrawn_at: isInt }) || !isUrlSafeId(w.kid, 64)) bad();
    if (keys.some((k) => k.kid === w.kid)) bad();
    if (withdrawn.slice(i + 1).some((o) => o.kid === w.kid)) bad();
  });
  return { keys, withdrawn: new Set(withdrawn.map((w) => w.kid)) };
}

/** Whether `key` may sign a token of type `typ` issued at `iat` (the core's `vouches_for`). */
export function vouchesFor(key, typ, iat) {
  return (key.use === null || USES[key.use] === typ) && (key.from === null || iat >= key.from) && (key.until === null || iat <= key.until);
}
