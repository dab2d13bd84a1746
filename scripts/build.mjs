// Builds what the package ships, from a clean dist/: tsc emits the .js and the declarations
// (.d.ts for the .ts sources, .d.mts from the JSDoc of the .mjs ones), then the plugin worker
// entry is bundled beside them, and the inspector's page (Preact, no CDN) into one minified
// script. `prepare` runs it, so a fresh clone's `npm install` builds it.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { buildWorker } from './build-worker.mjs';
import { buildSync } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}dist`, { recursive: true, force: true }); // nothing of a deleted source survives
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
buildWorker();
// The same options as the sources' in-memory bundle (src/inspector/page-assets.ts).
buildSync({
  absWorkingDir: root,
  entryPoints: ['src/inspector/page/main.ts'],
  outfile: 'dist/src/inspector/app.bundle.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  logLevel: 'warning',
});
