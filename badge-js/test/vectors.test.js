// Every badge and status-list case of testdata/vectors/cases.json through the script's
// verification core, once with WebCrypto Ed25519 and once with the fallback.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { verifyBadge, verifyStatusList, stateOf } from '../src/verify.js';
import { parseJwks } from '../src/jwks.js';
import { WrongType } from '../src/jws.js';
import { verifyWebCrypto } from '../src/webcrypto.js';
import { verifyNoble } from '../src/fallback.js';

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
