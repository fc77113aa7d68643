// Claim shapes and rules of SPEC 3.1 and 3.2, mirroring `claims.rs` in the Rust core: a
// badge the core calls malformed is malformed here too.

import * as b64 from './b64.js';
import { isObject } from './jws.js';
import { isCanonicalOrigin } from './origin.js';
import { overall, requiredPass, INDICATORS } from './catalogue.js';

export const SCHEME = 'rcep-b2b-web/1';
export const MAX_FUTURE_SKEW = 60;
const MAX_BADGE_LIFETIME = 400 * 86400;

export const isInt = (v, min = -(2 ** 63), max = 2 ** 63) => typeof v === 'number' && Number.isInteger(v) && v >= min && v < max;
const isStr = (v) => typeof v === 'string';
export const optional = (v, test) => v === undefined || v === null || test(v);

// An object with exactly the named members (`?` marks an optional one) that pass their tests.
export function shaped(obj, spec, open = false) {
  if (!isObject(obj)) return false;
  for (const k of Object.keys(obj)) if (!(k in spec) && !(`${k}?` in spec) && !open) return false;
  return Object.entries(spec).every(([k, test]) =>
    k.endsWith('?') ? optional(obj[k.slice(0, -1)], test) : k in obj && test(obj[k]),
  );
}

export const isUrlSafeId = (s, max) => isStr(s) && s.length > 0 && s.length <= max && /^[A-Za-z0-9_-]+$/.test(s);

// Control characters, format characters (bidi overrides, zero-width joiners) and line or
// paragraph separators could make a name shown to a buyer read as something else.
const DECEPTIVE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

export function isDisplayText(s, max) {
  return isStr(s) && s.trim() !== '' && [...s].length <= max && !DECEPTIVE.test(s);
}

/** Whether `s` is an http(s) URL on a canonical origin (or below `knownGood`). */
export function isUrlBelow(s, knownGood) {
  if (!isStr(s) || s.length > 2048) return false;
  let path;
  if (knownGood && s.startsWith(knownGood) && s[knownGood.length] === '/') path = s.slice(knownGood.length);
  else {
    const m = /^https?:\/\//.exec(s);
    if (!m) return false;
    const slash = s.indexOf('/', m[0].length);
    const cut = slash < 0 ? s.length : slash;
    if (!isCanonicalOrigin(s.slice(0, cut))) return false;
    path = s.slice(cut);
  }
  return !path.endsWith('/') && !/[?# \\\x00-\x1f\x7f]/.test(path);
}

const u8 = (v) => isInt(v, 0, 256);

/** Whether `c` has the shape of badge claims (types and members, as serde reads them). */
function badgeShape(c) {
  // serde reads a missing `aliases` as empty but refuses `null`.
  return isObject(c) && c.aliases !== null && shaped(c, {
    iss: isStr,
    sub: isStr,
    'aliases?': (a) => Array.isArray(a) && a.every(isStr),
    iat: isInt,
    exp: isInt,
    'nbf?': isInt,
    jti: isStr,
    trust_mark_type: isStr,
    org: (o) => shaped(o, { name: isStr, country: isStr, 'reg?': isStr }),
    auditor: isStr,
    audit: (a) => shaped(a, { at: isInt, score: u8, ind: (i) => Array.isArray(i) && i.every(u8), digest: isStr }),
    ref: isStr,
    status: (s) => shaped(s, { status_list: (l) => shaped(l, { idx: (n) => isInt(n, 0, 2 ** 64), uri: isStr }) }),
  });
}

/**
 * Whether `c` is a well-formed badge of issuer `issuer` (the one this verifier trusts):
 * the core's `BadgeClaims::validate_with_known_issuer`.
 */
export function validBadgeClaims(c, issuer) {
  if (!badgeShape(c)) return false;
  const aliases = c.aliases ?? [];
  const a = c.audit;
  return (
    (c.iss === issuer || isUrlBelow(c.iss)) &&
    isCanonicalOrigin(c.sub) &&
    aliases.length <= 20 &&
    aliases.every((x, i) => isCanonicalOrigin(x) && x !== c.sub && aliases.indexOf(x) === i) &&
    c.iat >= 0 &&
    c.exp > c.iat &&
    c.exp - c.iat <= MAX_BADGE_LIFETIME + MAX_FUTURE_SKEW &&
    optional(c.nbf, (n) => n >= 0) &&
    isUrlSafeId(c.jti, 40) &&
    c.trust_mark_type === `${c.iss}/schemes/${SCHEME}` &&
    isDisplayText(c.org.name, 200) &&
    /^[A-Z]{2}$/.test(c.org.country) &&
    optional(c.org.reg, (r) => isDisplayText(r, 100)) &&
    isUrlSafeId(c.auditor, 64) &&
    a.at >= 0 &&
    a.at <= c.iat &&
    a.ind.length === INDICATORS.length &&
    a.ind.every((n) => n <= 100) &&
    requiredPass(a.ind) &&
    overall(a.ind) === a.score &&
    a.digest.length === 43 &&
    b64.decode(a.digest) !== null &&
    isUrlBelow(c.ref, issuer) &&
    isUrlBelow(c.status.status_list.uri, issuer)
  );
}

/** Whether `c` is well-formed status-list claims (SPEC 3.2). Other members are allowed. */
export function validStatusListClaims(c) {
  return (
    shaped(
      c,
      {
        iss: isStr,
        sub: isStr,
        iat: isInt,
        exp: isInt,
        ttl: (t) => isInt(t, 0, 2 ** 64),
        status_list: (l) => shaped(l, { bits: u8, lst: isStr }),
      },
      true,
    ) &&
    isUrlBelow(c.iss) &&
    isUrlBelow(c.sub) &&
    c.iat >= 0 &&
    c.exp > c.iat &&
    c.ttl > 0
  );
}
