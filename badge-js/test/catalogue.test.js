// The script's copy of the indicator weights matches schemas/indicators/rcep-b2b-web-1.json.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { INDICATORS, overall } from '../src/catalogue.js';
import { isSmallOrder } from '../src/jwks.js';
import * as ed from '@noble/ed25519';

test('weights and required flags are the catalogue\'s', () => {
  const cat = JSON.parse(readFileSync(new URL('../../schemas/indicators/rcep-b2b-web-1.json', import.meta.url), 'utf8'));
  assert.deepEqual(
    INDICATORS,
    cat.indicators.map((i) => [i.weight, i.required]),
  );
  assert.equal(overall(Array(12).fill(100)), 100);
  assert.equal(overall(Array(12).fill(60)), 60);
});

test('the small-order blocklist is every point of order dividing 8', async () => {
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  let torsion;
  for (let i = 1; !torsion; i++) {
    const h = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array([i])));
    let p;
    try {
      p = ed.Point.fromBytes(h, true);
    } catch {
      continue;
    }
    const t = p.multiply(L - 1n, false).add(p);
    if (!t.double().double().is0()) torsion = t;
  }
  let q = ed.Point.ZERO;
  for (let k = 0; k < 8; k++) {
    const b = q.toBytes();
    assert.ok(isSmallOrder(b), `${k}·T`);
    b[31] |= 0x80;
    assert.ok(isSmallOrder(b), `${k}·T with the sign bit`);
    q = q.add(torsion);
  }
  assert.ok(!isSmallOrder(ed.Point.BASE.toBytes()));
});
