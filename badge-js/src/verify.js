// Badge verification: one entry point, one reason, in the order of SPEC 5 and the Rust
// core's `verify.rs` (format, typ, key, signature, issuer, time, origin, status list).
// No DOM, no clock and no network: the time, the keys and a way to get the status lists
// are passed in, so node runs the shared vectors through exactly this code.

import { parseCompact, Malformed, WrongType, BADGE, STATUS_LIST, MAX_TOKEN_LEN, MAX_STATUS_LIST_TOKEN_LEN } from './jws.js';
import { validBadgeClaims, validStatusListClaims, MAX_FUTURE_SKEW } from './claims.js';
import { vouchesFor, isSmallOrder } from './jwks.js';
import { decodeList, entry } from './status.js';
import * as b64 from './b64.js';

// The group order L, little-endian: a signature's S must be below it.
const L = b64.decode('7dP1XBpjEljWnPei3vneFAAAAAAAAAAAAAAAAAAAABA');

function sBelowL(sig) {
  for (let i = 31; i >= 0; i--) {
    if (sig[32 + i] !== L[i]) return sig[32 + i] < L[i];
  }
  return false;
}

// The checks verify_strict makes before its equation, so both Ed25519 back ends (WebCrypto
// and the fallback) refuse the same signatures.
async function signatureOk(ed25519, key, parsed) {
  const sig = parsed.signature;
  if (isSmallOrder(sig.subarray(0, 32)) || !sBelowL(sig)) return false;
  return ed25519(key.x, sig, parsed.signingInput);
}

/** Reason code → verdict, as in SPEC 5. */
export function verdictOf(reason) {
  if (reason === 'valid') return 'valid';
  return reason === 'status_unavailable' || reason === 'status_invalid' ? 'unknown' : 'invalid';
}

/** Reason code → the element's `state` attribute (docs/embed.md has the table). */
export function stateOf(reason) {
  const direct = { valid: 'verified', revoked: 'revoked', suspended: 'suspended', expired: 'expired', origin_mismatch: 'wrong-origin' };
  return direct[reason] ?? (verdictOf(reason) === 'unknown' ? 'unknown' : 'invalid');
}

/**
 * Verifies a status-list token against `keys` and `issuer`. Resolves to
 * `{claims, list}`, or rejects (any error: the list is not usable).
 */
export async function verifyStatusList(token, keys, issuer, ed25519) {
  const parsed = parseCompact(token, STATUS_LIST, MAX_STATUS_LIST_TOKEN_LEN);
  const c = parsed.claims;
  if (!validStatusListClaims(c)) throw new Malformed();
  if (keys.withdrawn.has(parsed.kid)) throw new Error();
  const key = keys.keys.find((k) => k.kid === parsed.kid);
  if (!key || !vouchesFor(key, STATUS_LIST, c.iat)) throw new Error();
  if (!(await signatureOk(ed25519, key, parsed))) throw new Error();
  if (c.iss !== issuer) throw new Error();
  return { claims: c, list: await decodeList(c.status_list) };
}

// The `sub` a status list claims before it is verified: a broken list is filed under it.
function claimedSub(token) {
  try {
    const sub = parseCompact(token, STATUS_LIST, MAX_STATUS_LIST_TOKEN_LEN, true).claims.sub;
    return typeof sub === 'string' ? sub : null;
  } catch {
    return null;
  }
}

async function statusOf(claims, opts) {
  const { uri, idx } = claims.status.status_list;
  const byUri = new Map();
  let unattributed = 0;
  for (const token of (await opts.lists(uri)) ?? []) {
    try {
      const list = await verifyStatusList(token, opts.keys, opts.issuer, opts.ed25519);
      const old = byUri.get(list.claims.sub);
      if (!old || !old.claims || list.claims.iat > old.claims.iat) byUri.set(list.claims.sub, list);
    } catch {
      const sub = claimedSub(token);
      if (sub === null) unattributed++;
      else if (!byUri.has(sub)) byUri.set(sub, { rejected: true });
    }
  }
  const list = byUri.get(uri);
  if (!list) return unattributed ? 'status_invalid' : 'status_unavailable';
  if (list.rejected) return 'status_invalid';
  const { at } = opts;
  if (list.claims.iat > at + MAX_FUTURE_SKEW) return 'status_invalid';
  if (!(at < list.claims.exp && at <= list.claims.iat + list.claims.ttl)) return 'status_unavailable';
  const value = entry(list.list, idx);
  if (value === undefined) return 'status_out_of_range';
  return ['valid', 'revoked', 'suspended'][value] ?? 'status_invalid';
}

/**
 * Verifies a badge token. `opts`: `issuer` (trusted issuer URL), `keys` (from parseJwks),
 * `origin` (the page's origin, or null to ignore it), `at` (unix seconds), `lists`
 * (async uri → array of status-list tokens; may throw or give [] when unreachable) and
 * `ed25519` (async (publicKey, signature, message) → boolean). Resolves to
 * `{reason, verdict, state, claims}`; `claims` is present once the claims parsed and are
 * well-formed (unverified before the signature step).
 */
export async function verifyBadge(token, opts) {
  const done = (reason, claims = null) => ({ reason, verdict: verdictOf(reason), state: stateOf(reason), claims });
  let parsed;
  try {
    parsed = parseCompact(token, BADGE, MAX_TOKEN_LEN);
  } catch (e) {
    return done(e instanceof WrongType ? 'wrong_type' : 'malformed');
  }
  const c = parsed.claims;
  if (!validBadgeClaims(c, opts.issuer)) return done('malformed');
  const key = opts.keys.keys.find((k) => k.kid === parsed.kid);
  if (!key || !vouchesFor(key, BADGE, c.iat)) return done('unknown_key', c);
  if (!(await signatureOk(opts.ed25519, key, parsed))) return done('bad_signature', c);
  if (c.iss !== opts.issuer) return done('untrusted_issuer', c);
  if (opts.at >= c.exp) return done('expired', c);
  if (Math.max(c.nbf ?? c.iat, c.iat) > opts.at + MAX_FUTURE_SKEW) return done('not_yet_valid', c);
  if (opts.origin !== null && c.sub !== opts.origin && !(c.aliases ?? []).includes(opts.origin)) return done('origin_mismatch', c);
  let reason;
  try {
    reason = await statusOf(c, opts);
  } catch {
    reason = 'status_unavailable';
  }
  return done(reason, c);
}
