// The label catalogues: one per RCEP language, each with every key English has, and the
// language choice for the tags pages and browsers send.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LANGS, match, pick } from '../src/lang.js';

const dir = fileURLToPath(new URL('../src/i18n/', import.meta.url));
const load = (lang) => JSON.parse(readFileSync(`${dir}${lang}.json`, 'utf8'));

test('one catalogue per RCEP language, each with every key of en', () => {
  const files = readdirSync(dir).map((f) => f.replace(/\.json$/, '')).sort();
  assert.deepEqual(files, [...LANGS].sort());
  const keys = Object.keys(load('en')).sort();
  assert.ok(keys.length >= 9);
  for (const lang of LANGS) {
    const t = load(lang);
    assert.deepEqual(Object.keys(t).sort(), keys, lang);
    for (const k of keys) assert.ok(typeof t[k] === 'string' && t[k].trim(), `${lang} ${k}`);
  }
});

test('every state has a label', () => {
  const en = load('en');
  for (const s of ['pending', 'verified', 'suspended', 'revoked', 'expired', 'wrong-origin', 'invalid', 'unknown']) assert.ok(en[s], s);
});

test('language tags map to the best catalogue', () => {
  const cases = {
    en: 'en',
    'en-GB': 'en',
    'zh-CN': 'zh-Hans',
    'zh-SG': 'zh-Hans',
    zh: 'zh-Hans',
    'zh-Hans-CN': 'zh-Hans',
    'zh-TW': 'zh-Hant',
    'zh-HK': 'zh-Hant',
    'zh-Hant': 'zh-Hant',
    tl: 'fil',
    'fil-PH': 'fil',
    'th-TH': 'th',
    'ms-MY': 'ms',
    in: 'id',
    'my-MM': 'my',
    ta_IN: 'ta',
  };
  for (const [tag, want] of Object.entries(cases)) assert.equal(match(tag), want, tag);
  assert.equal(match('de'), null);
  assert.equal(pick('de', '', 'ja-JP'), 'ja');
  assert.equal(pick(null, undefined, 'fr'), 'en');
});
