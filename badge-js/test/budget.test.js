// Size budgets of the release files (gzip level 9): what every page that shows a badge
// downloads, and what a browser without WebCrypto Ed25519 downloads besides.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const gz = (f) => gzipSync(readFileSync(new URL(`../dist/${f}`, import.meta.url)), { level: 9 }).length;
// 8 KB and 6 KB, counted in bytes of 1,000 (the stricter reading).
const BUDGET = { 'badge.js': 8000, 'badge-fallback.js': 6000 };

for (const [file, max] of Object.entries(BUDGET)) {
  test(`${file} is at most ${max} bytes gzipped`, () => {
    const size = gz(file);
    console.log(`${file}: ${size} bytes gzipped (budget ${max})`);
    assert.ok(size <= max, `${file} is ${size} bytes gzipped, over its budget of ${max}`);
  });
}
