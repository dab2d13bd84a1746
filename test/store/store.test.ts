import { spawn } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IN_PROGRESS_MARKER, Store } from '../../src/store/store.js';
import { bundle, nextState, onCleanup, supervisor, tempDir } from '../helpers.js';

describe('store layout', () => {
  it('keeps the index, the manifest, the settings and a copy of the bundle', async () => {
    const sup = await supervisor();
    const { id } = await sup.install(await bundle('greeter'));
    const index = JSON.parse(await readFile(path.join(sup.root, 'plugins.json'), 'utf8'));
    expect(index).toEqual({ version: 1, plugins: [{ id, name: 'greeter' }] });
    const record = path.join(sup.root, 'plugins', id);
    expect(JSON.parse(await readFile(path.join(record, 'plugin.json'), 'utf8')).name).toBe('greeter');
    expect(JSON.parse(await readFile(path.join(record, 'settings.json'), 'utf8'))).toEqual({ enabled: false, env: [], grantedEnv: [] });
    await expect(access(path.join(record, 'bundle', 'index.mjs'))).resolves.toBeUndefined();
  });

  it('gives the same bundle the same ID in another store', async () => {
    const dir = await bundle('greeter');
    const a = await (await supervisor()).install(dir);
    const b = await (await supervisor()).install(dir);
    expect(a.id).toBe(b.id);
  });
});

describe('a damaged store', () => {
  it('reports and skips a corrupt record, and loads the others', async () => {
    const first = await supervisor();
    const { id } = await first.install(await bundle('greeter'));
    await first.install(await bundle('crasher'));
    await first.close();
    await writeFile(path.join(first.root, 'plugins', id, 'settings.json'), '{ "enabled": tru');
    const second = await supervisor({ root: first.root });
    expect(second.problems).toHaveLength(1);
    expect(second.problems[0]).toMatchObject({ id, error: { code: 'PLUGD_E_STORE' } });
    expect(second.list().map((p) => p.name)).toEqual(['crasher']);
  });

  it('falls back to the record folders when the index itself is corrupt', async () => {
    const first = await supervisor();
    await first.install(await bundle('greeter'));
    await first.close();
    await writeFile(path.join(first.root, 'plugins.json'), '\0\0\0garbage');
    const second = await supervisor({ root: first.root });
    expect(second.problems[0]?.error.code).toBe('PLUGD_E_STORE');
    expect(second.list().map((p) => p.name)).toEqual(['greeter']);
  });

  it('sweeps unfinished installs left by a crash', async () => {
    const root = path.join(await tempDir(), 'store');
    await mkdir(path.join(root, 'plugins', '.incoming-abc', 'bundle'), { recursive: true });
    // A record folder renamed into place whose index write never happened: marked in progress.
    await mkdir(path.join(root, 'plugins', 'f'.repeat(64)), { recursive: true });
    await writeFile(path.join(root, 'plugins', 'f'.repeat(64), IN_PROGRESS_MARKER), '{"change":"install"}');
    const { store, problems } = await Store.open(root);
    expect(problems).toEqual([]);
    expect(store.list()).toEqual([]);
    await expect(access(path.join(root, 'plugins', '.incoming-abc'))).rejects.toThrow();
    await expect(access(path.join(root, 'plugins', 'f'.repeat(64)))).rejects.toThrow();
  });
});

describe('a host killed with SIGKILL in the middle of installs', () => {
  const loop = fileURLToPath(new URL('../fixtures/install-loop.ts', import.meta.url));

  async function killMidInstall(root: string, source: string, afterInstalls: number, extraMs: number): Promise<void> {
    const work = await tempDir('plugd-kill-');
    const child = spawn(process.execPath, ['--import', 'tsx', loop, root, source, work], { stdio: ['ignore', 'pipe', 'inherit'] });
    onCleanup(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      let seen = 0;
      let armed = false;
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk
          .toString()
          .split('\n')
          .filter((l) => l.startsWith('installed')).length;
        if (seen < afterInstalls || armed) return;
        armed = true;
        // A few ms after the Nth install, so the kill lands at a different point each round.
        setTimeout(() => {
          child.kill('SIGKILL');
        }, extraMs);
      });
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`install loop ended by itself: ${code}`))));
    });
  }

  it('leaves a store that loads, with every indexed plugin complete', async () => {
    const root = path.join(await tempDir(), 'store');
    const source = await bundle('greeter');
    for (const [after, extra] of [
      [4, 0],
      [8, 3],
      [12, 7],
    ] as const)
      await killMidInstall(root, source, after, extra);

    const { store, problems } = await Store.open(root);
    expect(problems).toEqual([]);
    expect(store.list().length).toBeGreaterThanOrEqual(12);
    for (const record of store.list()) {
      await expect(access(path.join(record.bundleDir, 'index.mjs'))).resolves.toBeUndefined();
    }
    await store.close();
    // And a supervisor on it runs what it finds.
    const sup = await supervisor({ root });
    const name = sup.list()[0]!.name;
    await sup.enable(name);
    expect(sup.inspect(name).state).toBe('running');
  }, 60_000);
});

describe('restore', () => {
  it('activates again the plugins that were enabled, and only those, after close and reopen', async () => {
    const first = await supervisor();
    await first.install(await bundle('greeter'));
    await first.install(await bundle('crasher'));
    await first.install(await bundle('busy-loop'));
    await first.enable('greeter');
    await first.enable('crasher');
    await first.disable('crasher');
    await first.close();

    const second = await supervisor({ root: first.root });
    // The store keeps the enabled flag, not the state: a plugin that is not enabled comes back installed.
    expect(second.list().map((p) => [p.name, p.state, p.enabled])).toEqual([
      ['busy-loop', 'installed', false],
      ['crasher', 'installed', false],
      ['greeter', 'running', true],
    ]);
    await expect((await second.get('greeter', 'Greeter')).call('Greeter.Hello', { name: 'again' })).resolves.toMatchObject({
      greeting: 'hello again',
    });
  });

  it('activates an "always" plugin on host start even if a user disabled it, but not an "unless-stopped" one', async () => {
    const first = await supervisor();
    await first.install(await bundle('greeter', { name: 'keen', restart: 'always' }));
    await first.install(await bundle('greeter', { name: 'polite', restart: 'unless-stopped' }));
    for (const name of ['keen', 'polite']) {
      await first.enable(name);
      await first.disable(name);
    }
    await first.close();
    const second = await supervisor({ root: first.root });
    expect(second.list().map((p) => [p.name, p.state])).toEqual([
      ['keen', 'running'],
      ['polite', 'installed'],
    ]);
  });

  it('keeps the enabled flag of a plugin the host closed, but not of one the user disabled', async () => {
    const first = await supervisor();
    await first.install(await bundle('greeter'));
    await first.enable('greeter');
    const stopped = nextState(first, 'greeter', 'disabled');
    await first.close();
    await stopped;
    expect(first.inspect('greeter')).toMatchObject({ state: 'disabled', enabled: true });
  });
});
