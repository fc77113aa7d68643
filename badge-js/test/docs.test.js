// docs/embed.md gives site owners the current release's path and SRI values.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const read = (p) => readFileSync(new URL(p, import.meta.url), 'utf8');

test('docs/embed.md names this release and its SRI values', () => {
  const doc = read('../../docs/embed.md');
  const version = read('../dist/VERSION').trim();
  const sri = JSON.parse(read('../dist/integrity.json'));
  assert.ok(doc.includes(`/badge-${version}.js" integrity="${sri['badge.js']}"`), 'the snippet');
  assert.ok(doc.includes(`| \`badge-${version}.js\` | \`${sri['badge.js']}\` |`), 'the table: badge.js');
  assert.ok(doc.includes(`| \`badge-fallback-${version}.js\` | \`${sri['badge-fallback.js']}\` |`), 'the table: fallback');
});
