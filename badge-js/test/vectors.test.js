// Every badge and status-list case of testdata/vectors/cases.json through the script's
// verification core, once with WebCrypto Ed25519 and once with the fallback.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { verifyBadge, verifyStatusList, stateOf } from '../src/verify.js';
import { parseJwks, BadKeySet, thumbprint } from '../src/jwks.js';
import { WrongType } from '../src/jws.js';
import { verifyWebCrypto } from '../src/webcrypto.js';
import { verifyNoble } from '../src/fallback.js';
import * as b64 from '../src/b64.js';

const dir = new URL('../../testdata/vectors/', import.meta.url);
const read = (path) => readFileSync(fileURLToPath(new URL(path, dir)), 'utf8');
const vectors = JSON.parse(read('cases.json'));
// Floors: a truncated file must fail, not pass with fewer cases.
const MIN = { badge: 79, status_list: 4 };

for (const [name, ed25519] of [
  ['WebCrypto', verifyWebCrypto],
  ['fallback', verifyNoble],
]) {
  test(`badge vectors (${name})`, async (t) => {
    const keys = await parseJwks(read(vectors.jwks));
    const cases = vectors.cases.filter((c) => c.kind === 'badge');
    assert.ok(cases.length >= MIN.badge, `only ${cases.length} badge cases`);
    for (const c of cases) {
      await t.test(c.name, async () => {
        const out = await verifyBadge(c.token, {
          issuer: vectors.issuer,
          keys,
          // The page's origin as a browser gives it (punycode for an IDN).
          origin: c.origin === null ? null : new URL(c.origin).origin,
          at: c.at ?? vectors.at,
          lists: async () => c.status_lists.map((p) => read(p).trim()),
          ed25519,
        });
        assert.deepEqual({ verdict: out.verdict, reason: out.reason }, c.expect, c.description);
        assert.equal(out.state, stateOf(c.expect.reason));
      });
    }
  });

  test(`status-list vectors (${name})`, async () => {
    const keys = await parseJwks(read(vectors.jwks));
    const cases = vectors.cases.filter((c) => c.kind === 'status_list');
    assert.ok(cases.length >= MIN.status_list);
    for (const c of cases) {
      let reason;
      try {
        await verifyStatusList(c.token, keys, vectors.issuer, ed25519);
        reason = 'valid';
      } catch (e) {
        reason = e instanceof WrongType ? 'wrong_type' : 'invalid';
      }
      assert.equal(reason, c.expect.reason, c.name);
    }
  });
}

test('key sets the core refuses are refused (jwks/invalid.json)', async () => {
  const cases = JSON.parse(read('jwks/invalid.json'));
  assert.ok(cases.length >= 6);
  for (const c of cases) {
    await assert.rejects(parseJwks(JSON.stringify(c.jwks)), BadKeySet, `${c.name} (${c.expect})`);
  }
  const good = await parseJwks(read(vectors.jwks));
  assert.equal(good.keys.length, 3);
  assert.equal(good.withdrawn.size, 1);
});

test('RFC 8037 appendix A: the thumbprint of its key and its signature, with both back ends', async () => {
  const rfc = JSON.parse(read('rfc8037.json'));
  assert.equal(await thumbprint(rfc.public_jwk.x), rfc.thumbprint);
  const [h, p, s] = rfc.jws.split('.');
  const key = b64.decode(rfc.public_jwk.x);
  const msg = new TextEncoder().encode(`${h}.${p}`);
  for (const ed25519 of [verifyWebCrypto, verifyNoble]) {
    assert.equal(await ed25519(key, b64.decode(s), msg), true);
    const flipped = b64.decode(s);
    flipped[0] ^= 1;
    assert.equal(await ed25519(key, flipped, msg), false);
  }
});
