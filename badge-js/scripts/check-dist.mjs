// Rebuilds from source into a temporary folder and fails unless the result is byte for
// byte what dist/ holds: the committed files the registry embeds are the sources' build.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'badge-js-build-'));
try {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), tmp], { stdio: 'inherit' });
  const built = readdirSync(tmp).sort();
  const committed = readdirSync(join(root, 'dist')).sort();
  const differ = built.filter((f) => !committed.includes(f) || !readFileSync(join(tmp, f)).equals(readFileSync(join(root, 'dist', f))));
  const extra = committed.filter((f) => !built.includes(f));
  if (differ.length || extra.length) {
    console.error(`badge-js/dist is not the build of badge-js/src (differs: ${[...differ, ...extra].join(', ')}); run: cd badge-js && npm run build, then commit dist/`);
    process.exit(1);
  }
  console.log(`dist/ matches a fresh build (${built.join(', ')})`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
