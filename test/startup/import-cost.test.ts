// `import 'plugd'` runs in every host at start and in every plugin thread whose module imports
// definePlugin from it: the heavy libraries behind optional features (the control API, metrics,
// the inspector, registry installs, the Docker Engine) must load only when a feature is used.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const INDEX = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
const LAZY = ['fastify', 'prom-client', 'pacote', 'dockerode', 'elkjs', 'ws', 'commander'];

describe("import 'plugd'", () => {
  it('loads none of the libraries behind optional features', () => {
    // CommonJS packages imported from ESM still pass through the CJS loader's cache.
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(INDEX)});
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(${JSON.stringify(LAZY)}.filter((name) => loaded.some((p) => p.includes('/node_modules/' + name + '/')))));
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toEqual([]);
  });
});
