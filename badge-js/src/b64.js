// Canonical base64url without padding (RFC 7515 section 2): the same strings the Rust core
// accepts, so one token never has two encodings.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** Bytes of `text`, or null when it is not canonical unpadded base64url. */
export function decode(text) {
  const n = text.length;
  if (n % 4 === 1) return null;
  const out = new Uint8Array((n * 3) >> 2);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? VALUE[c] : -1;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero: otherwise a second spelling decodes to the same bytes.
  if (acc & ((1 << bits) - 1)) return null;
  return out;
}

export function encode(bytes) {
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63] + ALPHABET[(v >> 6) & 63] + ALPHABET[v & 63];
  }
  const rest = bytes.length - i;
  if (rest) {
    const v = (bytes[i] << 16) | (rest > 1 ? bytes[i + 1] << 8 : 0);
    s += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63] + (rest > 1 ? ALPHABET[(v >> 6) & 63] : '');
  }
  return s;
}
