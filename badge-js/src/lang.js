// Picks one of the 14 RCEP languages for a BCP 47 tag. English is built in; the other
// catalogues (src/i18n/*.json) ship in one immutable file beside the script, fetched from
// the registry only when a page needs one, which keeps badge.js inside its size budget.

import en from './i18n/en.json' with { type: 'json' };

export { en };
export const LANGS = ['en', 'zh-Hans', 'zh-Hant', 'ja', 'ko', 'id', 'ms', 'th', 'vi', 'fil', 'km', 'lo', 'my', 'ta'];

/** The supported language for `tag`, or null: zh-TW/zh-HK/zh-MO and zh-Hant → zh-Hant, other Chinese → zh-Hans, tl → fil. */
export function match(tag) {
  const parts = String(tag || '').toLowerCase().split(/[-_]/);
  const primary = parts[0];
  if (primary === 'zh') return parts.some((p) => ['hant', 'tw', 'hk', 'mo'].includes(p)) ? 'zh-Hant' : 'zh-Hans';
  if (primary === 'tl') return 'fil';
  if (primary === 'in') return 'id'; // the withdrawn ISO 639 code some systems still send
  return LANGS.includes(primary) ? primary : null;
}

/** The first of `tags` that matches a catalogue, else English. */
export function pick(...tags) {
  for (const t of tags) {
    const m = match(t);
    if (m) return m;
  }
  return 'en';
}
