// The package as a user gets it: `npm pack` of a copy of the sources (its `prepare` builds
// dist/), installed with the latest typescript and @types/node into a fresh strict nodenext
// project (test/package/consumer-app), type-checked, then run: a host using the whole README API
// with a worker plugin (definePlugin from 'plugd') and a process plugin (servePlugin from
// 'plugd/sdk') installed from a folder outside that project. Needs the npm registry.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const APP_SOURCE = fileURLToPath(new URL('./consumer-app', import.meta.url));
/** Copied as a clone would hold the repository: no build output, no dependencies, no dot-folders. */
const NOT_CLONED = new Set(['node_modules', 'dist']);
const GENERATED = /plugin-worker\.bundle\.mjs$|inspector\/app\.bundle\.js$/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never rejects, so a failure shows its output in the assertion. */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  // npm_* variables set by an `npm test` around us would configure the npm we start.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr: error && code === null ? `${stderr}\n${error.message}` : stderr });
    });
  });
}

let tmp = '';
let app = '';
let packed: { filename: string; files: { path: string }[] } | undefined;
let installed: Run | undefined;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'plugd-package-'));
  const source = join(tmp, 'source');
  for (const entry of await readdir(REPO)) {
    if (NOT_CLONED.has(entry) || entry.startsWith('.')) continue;
    await cp(join(REPO, entry), join(source, entry), { recursive: true, filter: (path) => !GENERATED.test(path) });
  }
  await symlink(join(REPO, 'node_modules'), join(source, 'node_modules'), 'dir');
  const pack = await run('npm', ['pack', '--json', '--pack-destination', tmp], source, 180_000);
  if (pack.code !== 0) throw new Error(`npm pack failed (${pack.code}):\n${pack.stderr}`);
  packed = (JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[])[0];

  app = join(tmp, 'app');
  await cp(APP_SOURCE, app, { recursive: true, filter: (path) => !/[/\\](out|node_modules|\.plugd)$/.test(path) });
  installed = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', join(tmp, packed!.filename), 'typescript@latest', '@types/node@latest'],
    app,
    180_000,
  );
}, 400_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships dist/ with declarations for plugd and plugd/sdk, the bundled worker entry and the LICENSE, not the sources', () => {
    const files = packed!.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'dist/src/index.js',
        'dist/src/index.d.ts',
        'dist/src/sdk/index.js',
        'dist/src/sdk/index.d.ts',
        'dist/src/sdk/serve-plugin.mjs',
        'dist/src/sdk/serve-plugin.d.mts',
        'dist/src/isolation/entry/plugin-worker.bundle.mjs',
        'dist/src/inspector/app.bundle.js',
      ]),
    );
    expect(files.filter((f) => !f.startsWith('dist/') && !['LICENSE', 'README.md', 'package.json', 'bin/plugd.js'].includes(f))).toEqual(
      [],
    );
    expect(files.filter((f) => /\.(ts|mts)$/.test(f) && !/\.d\.(ts|mts)$/.test(f))).toEqual([]);
    // Every module the package ships comes with its declarations.
    const modules = files.filter((f) => /\.m?js$/.test(f) && !GENERATED.test(f) && !f.startsWith('bin/'));
    expect(modules.filter((f) => !files.includes(f.replace(/\.js$/, '.d.ts').replace(/\.mjs$/, '.d.mts')))).toEqual([]);
  });

  it('installs into a fresh project with the latest typescript and @types/node', () => {
    expect(installed, installed?.stderr).toMatchObject({ code: 0 });
  });

  it('runs the `plugd` command from the installed package (its build in dist/)', async () => {
    const plugd = join(app, 'node_modules/.bin/plugd');
    const help = await run(plugd, ['--help'], app, 60_000);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('Exit codes: 0 done, 1 refused')]);
    const ls = await run(plugd, ['--root', join(tmp, 'no-daemon'), 'ls'], app, 60_000);
    expect([ls.code, ls.stderr]).toEqual([3, expect.stringContaining('no plugd daemon answers')]);
  }, 150_000);

  it('type-checks a strict nodenext host using the whole README API, a definePlugin worker and a servePlugin process plugin', async () => {
    const tsc = await run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', '.'], app, 180_000);
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
    expect(tsc.code).toBe(0);
  }, 200_000);

  it('runs that host with plugins installed from a folder outside the project', async () => {
    const bundles = join(tmp, 'bundles');
    const manifest = JSON.parse(await readFile(join(app, 'plugins/greeter/plugin.json'), 'utf8')) as {
      version: string;
      env: { name: string; value: string }[];
    };
    for (const [folder, edition] of [
      ['greeter', '1'],
      ['greeter-2', '2'],
    ] as const) {
      await mkdir(join(bundles, folder), { recursive: true });
      await cp(join(app, 'out/plugins/greeter/index.mjs'), join(bundles, folder, 'index.mjs'));
      const env = manifest.env.map((v) => (v.name === 'EDITION' ? { ...v, value: edition } : v));
      await writeFile(join(bundles, folder, 'plugin.json'), JSON.stringify({ ...manifest, version: `${edition}.0.0`, env }));
    }
    await mkdir(join(bundles, 'volumes'));
    await cp(join(app, 'out/plugins/volumes/server.mjs'), join(bundles, 'volumes/server.mjs'));
    await cp(join(app, 'plugins/volumes/plugin.json'), join(bundles, 'volumes/plugin.json'));

    const result = join(tmp, 'result.json');
    const host = await run(
      process.execPath,
      ['out/host.js', join(app, '.plugd'), join(bundles, 'greeter'), join(bundles, 'greeter-2'), join(bundles, 'volumes'), result],
      app,
      120_000,
    );
    expect(host.code, host.stderr).toBe(0);

    const r = JSON.parse(await readFile(result, 'utf8')) as Record<string, unknown>;
    expect(r).toMatchObject({
      name: 'greeter',
      root: join(app, '.plugd'),
      first: { greeting: 'hello Ada', edition: '1' },
      found: ['greeter'],
      listed: ['greeter'],
      info: { state: 'running', enabled: true, kind: 'worker', implements: ['Greeter'], lastError: null },
      setWhileRunning: 'PLUGD_E_STATE',
      disableWhileHeld: 'PLUGD_E_IN_USE',
      second: { greeting: 'hi Ada' },
      loggedGreeting: true,
      upgraded: { name: 'greeter', previous: r.id },
      third: { greeting: 'hi Ada', edition: '2' },
      volumeList: { Volumes: [{ Name: 'v1' }] },
      notFound: 'PLUGD_E_NOT_FOUND',
      guarded: true,
      remaining: [],
      afterClose: 'PLUGD_E_CLOSED',
    });
    expect(r.handled).toEqual(['greeter/Greeter', 'greeter/Greeter', 'greeter/Greeter']);
    expect(r.transitions).toEqual(
      expect.arrayContaining(['installed>enabled', 'activating>running', 'stopping>disabled', 'disabled>removed']),
    );
  }, 150_000);
});
