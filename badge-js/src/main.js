// Entry point of badge.js. The registry is whoever served this script: its address is
// read once, while the script runs, and every request goes there and nowhere else.

import { define } from './element.js';

/* global VERSION, FALLBACK_SRI, FALLBACK_GLOBAL */
const script = document.currentScript;
if (script && script.src) {
  const base = new URL('.', script.src).href;
  const issuer = base.slice(0, -1);
  define(issuer, { url: `${base}badge-fallback-${VERSION}.js`, sri: FALLBACK_SRI, name: FALLBACK_GLOBAL }, `${base}badge-i18n-${VERSION}.json`);
}
