// A real npm registry for tests: verdaccio on 127.0.0.1 with its config and storage in a temp
// folder, a user and its token, and `npm publish` of fixture packages with a temp userconfig.
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const VERDACCIO_BIN = fileURLToPath(new URL('../../node_modules/verdaccio/bin/verdaccio', import.meta.url));
export const NPM_FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The scope every fixture package is published under (readable with a token only). */
export const SCOPE = '@plugd-test';

export interface Registry {
  url: string;
  dir: string;
  storage: string;
  token: string;
  /** A userconfig .npmrc holding the registry's auth token (and `@plugd-test:registry`). */
  npmrc: string;
  /**
   * Publishes fixture folders (a name under test/fixtures, or an absolute path), each with
   * package.json fields replaced by its `overrides`, with one `npm publish --workspaces` (one npm
   * start for all; names must differ).
   */
  publish(...packages: { fixture: string; overrides?: Record<string, unknown> }[]): Promise<void>;
  /** Stops the registry (idempotent); resolves once its process has exited. Its files stay. */
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  remove(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The env a child npm runs with: none of the npm_config_* a surrounding `npm test` sets. */
export function cleanNpmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, ...extra };
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr}`)),
    );
  });
}

/** Resolves once verdaccio says it listens; rejects if it exits first. */
function listening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('http address')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`verdaccio exited with ${code} before listening: ${out}`)));
  });
}

export async function startRegistry(): Promise<Registry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugd-verdaccio-'));
  const storage = path.join(dir, 'storage');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = path.join(dir, 'config.yaml');
  await writeFile(
    config,
    [
      `storage: ${storage}`,
      'auth:',
      '  htpasswd:',
      `    file: ${path.join(dir, 'htpasswd')}`,
      'uplinks: {}',
      'packages:',
      `  '${SCOPE}/*':`,
      '    access: $authenticated',
      '    publish: $authenticated',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [VERDACCIO_BIN, '--config', config, '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    env: cleanNpmEnv(),
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await listening(child);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const response = await fetch(`${url}-/user/org.couchdb.user:tester`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'tester', password: 'tester-password' }),
  });
  const { token } = (await response.json()) as { token: string };
  if (!response.ok || typeof token !== 'string') throw new Error(`verdaccio did not create the user: ${response.status}`);
  const npmrc = path.join(dir, 'npmrc');
  const host = `//127.0.0.1:${port}/`;
  await writeFile(npmrc, `${SCOPE}:registry=${url}\n${host}:_authToken=${token}\n`);
  let stopped: Promise<void> | null = null;
  const registryStop = () => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    })();
    return stopped;
  };
  return {
    url,
    dir,
    storage,
    token,
    npmrc,
    async publish(...packages) {
      const work = await mkdtemp(path.join(dir, 'publish-'));
      const workspaces = packages.map((_, i) => `p${i}`);
      await writeFile(path.join(work, 'package.json'), JSON.stringify({ name: 'publisher', private: true, workspaces }));
      await Promise.all(
        packages.map(async ({ fixture, overrides = {} }, i) => {
          const folder = path.join(work, workspaces[i]!);
          await cp(path.resolve(NPM_FIXTURES, fixture), folder, { recursive: true });
          const file = path.join(folder, 'package.json');
          await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')), ...overrides }, null, 2));
        }),
      );
      await run(
        'npm',
        [
          'publish',
          '--workspaces',
          '--registry',
          url,
          '--userconfig',
          npmrc,
          '--cache',
          path.join(dir, 'npm-cache'),
          '--ignore-scripts',
          '--no-audit',
          '--loglevel=error',
        ],
        { cwd: work, env: cleanNpmEnv() },
      );
      await rm(work, { recursive: true, force: true });
    },
    stop: registryStop,
    async remove() {
      await registryStop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
