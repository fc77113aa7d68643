// IETF Token Status List decoding (SPEC 3.2): `lst` is base64url of a zlib stream, capped
// at 16 MiB inflated, as the Rust core's `status.rs` reads it.

import * as b64 from './b64.js';

export const MAX_INFLATED = 16 * 1024 * 1024;

/** A list that does not decode: the badge's status could not be checked. */
export class BadList extends Error {}

// zlib inflate through the browser's own decoder, stopping as soon as the output passes
// the cap so a small bomb cannot take the page's memory.
async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_INFLATED) {
        reader.cancel().catch(() => {});
        throw new BadList();
      }
      chunks.push(value);
    }
  } catch (e) {
    throw e instanceof BadList ? e : new BadList();
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Decodes `{bits, lst}`; returns `{bits, bytes}` or throws BadList. */
export async function decodeList(json) {
  if (![1, 2, 4, 8].includes(json.bits)) throw new BadList();
  const compressed = b64.decode(json.lst);
  if (!compressed) throw new BadList();
  const bytes = await inflate(compressed);
  if (bytes.length === 0) throw new BadList();
  return { bits: json.bits, bytes };
}

/** The value at `index`, or undefined past the end. */
export function entry(list, index) {
  const bit = index * list.bits;
  const byte = list.bytes[Math.floor(bit / 8)];
  if (byte === undefined || !Number.isSafeInteger(bit)) return undefined;
  return (byte >> bit % 8) & ((1 << list.bits) - 1);
}
