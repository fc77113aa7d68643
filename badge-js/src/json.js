// A strict JSON reader for untrusted token parts. JSON.parse keeps the last of two
// members with one name and cannot tell 1 from 1.0; the Rust core refuses the first and
// reads only integer literals into integer claims, so this reader tells both apart.

const MAX_DEPTH = 128; // serde_json's recursion limit
const TWO63 = 2 ** 63;

/**
 * Parses `text` (a string). Returns the value, or throws on any syntax error, duplicate
 * member, lone surrogate escape or nesting deeper than serde_json allows. Objects have a
 * null prototype so member names such as `__proto__` stay plain data.
 */
export function parse(text) {
  let i = 0;
  const fail = () => {
    throw new SyntaxError();
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else return;
    }
  };
  const hex4 = () => {
    const h = text.slice(i, i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) fail();
    i += 4;
    return parseInt(h, 16);
  };
  const string = () => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (!(c >= 32)) fail(); // also the end of the text (NaN)
      if (c === 34) {
        out += text.slice(start, i++);
        return out;
      }
      if (c !== 92) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }[e];
      if (simple !== undefined) out += simple;
      else if (e === 'u') {
        const u = hex4();
        if (u >= 0xdc00 && u <= 0xdfff) fail();
        if (u >= 0xd800 && u <= 0xdbff) {
          if (text[i] !== '\\' || text[i + 1] !== 'u') fail();
          i += 2;
          const lo = hex4();
          if (lo < 0xdc00 || lo > 0xdfff) fail();
          out += String.fromCharCode(u, lo);
        } else out += String.fromCharCode(u);
      } else fail();
      start = i;
    }
  };
  const number = () => {
    const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m[0].length;
    const v = Number(m[0]);
    // No claim, header or key member takes a fraction, so a number written with one (or an
    // exponent, or past the 64-bit range, where serde_json reads a float) reads as NaN:
    // never a valid integer.
    return m[1] || m[2] || Math.abs(v) >= TWO63 ? NaN : v;
  };
  const value = (depth) => {
    if (depth > MAX_DEPTH) fail();
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = Object.create(null);
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        const key = string();
        if (Object.prototype.hasOwnProperty.call(obj, key)) fail();
        ws();
        if (text[i++] !== ':') fail();
        obj[key] = value(depth + 1);
        ws();
        const d = text[i++];
        if (d === '}') return obj;
        if (d !== ',') fail();
      }
    }
    if (c === '[') {
      i++;
      const arr = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        const d = text[i++];
        if (d === ']') return arr;
        if (d !== ',') fail();
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return number();
  };
  const v = value(1);
  ws();
  if (i !== text.length) fail();
  return v;
}
