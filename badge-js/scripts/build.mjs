// Builds the release files into the folder given (dist/ for a release):
//   badge-fallback.js  the Ed25519 fallback, loaded only where WebCrypto lacks Ed25519;
//   badge.js           the element, carrying the fallback's SRI hash so a page that pins
//                      badge.js with SRI pins the fallback too;
//   badge-i18n.json    every language's labels (src/i18n/), fetched by badge.js only
//                      for a page not in English;
//   VERSION            the package version, which names the registry's immutable paths;
//   integrity.json     the SRI value (sha384) of each file, for pages and docs/embed.md.
// esbuild's output depends only on its version (pinned) and the sources: rebuilding gives
// the same bytes, which scripts/check-dist.mjs relies on.

import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/build.mjs OUTDIR');
  process.exit(2);
}
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const FALLBACK_GLOBAL = '__trustmarkBadgeEd25519';

const bundle = async (entry, define) => {
  const r = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2022',
    charset: 'utf8',
    write: false,
    define,
    logLevel: 'warning',
  });
  return r.outputFiles[0].contents;
};
const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;

const fallback = await bundle('src/fallback-entry.js', { FALLBACK_GLOBAL: JSON.stringify(FALLBACK_GLOBAL) });
const main = await bundle('src/main.js', {
  VERSION: JSON.stringify(version),
  FALLBACK_SRI: JSON.stringify(sri(fallback)),
  FALLBACK_GLOBAL: JSON.stringify(FALLBACK_GLOBAL),
});
const i18n = {};
for (const f of readdirSync(join(root, 'src/i18n')).sort()) i18n[f.replace(/\.json$/, '')] = JSON.parse(readFileSync(join(root, 'src/i18n', f), 'utf8'));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'badge-i18n.json'), `${JSON.stringify(i18n)}\n`);
writeFileSync(join(out, 'badge.js'), main);
writeFileSync(join(out, 'badge-fallback.js'), fallback);
writeFileSync(join(out, 'VERSION'), `${version}\n`);
writeFileSync(join(out, 'integrity.json'), `${JSON.stringify({ 'badge.js': sri(main), 'badge-fallback.js': sri(fallback) }, null, 2)}\n`);
