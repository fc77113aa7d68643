// JWS compact parsing with the header rules of SPEC 3.1, mirroring the Rust core's
// `jws.rs` so both give every token the same verdict.

import * as b64 from './b64.js';
import { parse } from './json.js';

export const BADGE = 'trustmark+jwt';
export const STATUS_LIST = 'statuslist+jwt';
export const MAX_TOKEN_LEN = 8 * 1024;
export const MAX_STATUS_LIST_TOKEN_LEN = 4 * 1024 * 1024;
const MAX_HEADER_B64 = 512;

/** A token that is not a JWS of the accepted shape: always the reason `malformed`. */
export class Malformed extends Error {}
/** A well-formed JWS whose `typ` is missing or another type's. */
export class WrongType extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly; a bad sequence is a malformed token, not U+FFFD. */
export function text(bytes) {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new Malformed();
  }
}

function json(bytes) {
  try {
    return parse(text(bytes));
  } catch {
    throw new Malformed();
  }
}

export const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === null;

/**
 * Splits and decodes `token` of type `typ`. Returns `{header, claims, signingInput,
 * signature}` or throws Malformed / WrongType. Only alg, typ and kid may appear in the
 * header, so every member RFC 8725 warns about (jku, jwk, x5u, x5c, x5t, crit, zip, enc,
 * b64) is refused without naming it.
 */
export function parseCompact(token, typ, maxLen, anyType = false) {
  if (typeof token !== 'string' || token.length > maxLen) throw new Malformed();
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  if (first < 0 || first === last) throw new Malformed();
  const h = token.slice(0, first);
  if (h.length > MAX_HEADER_B64) throw new Malformed();
  const headerBytes = b64.decode(h);
  const payload = b64.decode(token.slice(first + 1, last));
  const s = token.slice(last + 1);
  const signature = s.length === 86 ? b64.decode(s) : null;
  if (!headerBytes || !payload || !signature) throw new Malformed();
  const headerText = text(headerBytes);
  // The core reads header strings without unescaping them, so any escape is refused.
  if (headerText.includes('\\')) throw new Malformed();
  const header = json(headerBytes);
  if (!isObject(header)) throw new Malformed();
  for (const k of Object.keys(header)) if (k !== 'alg' && k !== 'typ' && k !== 'kid') throw new Malformed();
  const str = (v) => v === undefined || v === null || typeof v === 'string';
  if (typeof header.alg !== 'string' || !str(header.typ) || !str(header.kid)) throw new Malformed();
  if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519') throw new Malformed();
  if (payload[0] !== 0x7b) throw new Malformed();
  if (!anyType && header.typ !== typ) throw new WrongType(typ);
  if (!anyType && typeof header.kid !== 'string') throw new Malformed();
  const claims = json(payload);
  if (!isObject(claims)) throw new Malformed();
  return {
    kid: header.kid,
    claims,
    signingInput: new TextEncoder().encode(token.slice(0, last)),
    signature,
  };
}
