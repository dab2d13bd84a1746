// What a crash or a finished plugin leaves behind is swept: temp files of atomic writes when the
// store opens, run folders (sockets) when the store opens and when a plugin is removed or upgraded.
import { spawn, spawnSync } from 'node:child_process';
import { access, mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { bundle, onCleanup, supervisor, tempDir } from '../helpers.js';

const VOLUMES = fileURLToPath(new URL('../../examples/bundles/volumes/', import.meta.url));
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

describe('opening the store', () => {
  it('sweeps the temp files of atomic writes a crash left, and keeps the store as it was', async () => {
    const first = await supervisor();
    const { id } = await first.install(await bundle('greeter'));
    await first.close();
    const index = await readFile(path.join(first.root, 'plugins.json'), 'utf8');
    const debris = [
      path.join(first.root, '.plugins.json.0123456789ab.tmp'),
      path.join(first.root, 'plugins', id, '.settings.json.0123456789ab.tmp'),
      path.join(first.root, '.plugd.lock.0123456789ab.tmp'),
      // A daemon on TCP killed while it wrote its control files.
      path.join(first.root, '.control.url.0123456789ab.tmp'),
      path.join(first.root, '.control.token.0123456789ab.tmp'),
    ];
    for (const file of debris) await writeFile(file, '{"half": ');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(debris[2]!, hourAgo, hourAgo); // a lock attempt that died long ago

    const second = await supervisor({ root: first.root });
    for (const file of debris) expect(await exists(file)).toBe(false);
    expect(second.problems).toEqual([]);
    expect(second.list().map((p) => p.name)).toEqual(['greeter']);
    expect(await readFile(path.join(first.root, 'plugins.json'), 'utf8')).toBe(index);
    expect((await readdir(path.join(first.root, 'plugins', id))).sort()).toEqual(['bundle', 'plugin.json', 'settings.json']);
  });

  it('removes the control.url a killed TCP daemon left: clients would go to its dead port, not to the new holder', async () => {
    const first = await supervisor();
    await first.close();
    const url = path.join(first.root, 'control.url');
    await writeFile(url, 'http://127.0.0.1:9\n');
    await supervisor({ root: first.root });
    expect(await exists(url)).toBe(false);
  });

  it("sweeps a lock attempt's temp file once its writer has ended, however fresh, and keeps a live writer's", async () => {
    const first = await supervisor();
    await first.close();
    const owner = (pid: number) => `${JSON.stringify({ pid, startTime: null, host: hostname(), since: new Date().toISOString() })}\n`;
    const ended = spawnSync(process.execPath, ['-e', '']).pid; // a host killed between writing its attempt and removing it
    const dead = path.join(first.root, '.plugd.lock.0123456789ab.tmp');
    const live = path.join(first.root, '.plugd.lock.ba9876543210.tmp');
    await writeFile(dead, owner(ended));
    await writeFile(live, owner(process.pid)); // a contender still in StoreLock.acquire
    await supervisor({ root: first.root });
    expect(await exists(dead)).toBe(false);
    expect(await exists(live)).toBe(true);
  });

  it('sweeps run folders with stale sockets: no plugin runs before the store is open', async () => {
    const first = await supervisor();
    await first.close();
    const stale = path.join(first.root, 'run', '0123456789ab');
    await mkdir(stale, { recursive: true });
    await writeFile(path.join(stale, 'plugin.sock'), '');
    await supervisor({ root: first.root });
    expect(await exists(stale)).toBe(false);
  });
});

describe('removing and upgrading', () => {
  it('removes the run folder of a removed process plugin', async () => {
    const sup = await supervisor();
    const { id } = await sup.install(VOLUMES);
    await sup.enable('volumes');
    const runDir = path.join(sup.root, 'run', id.slice(0, 12));
    expect(await exists(runDir)).toBe(true);
    await sup.disable('volumes');
    await sup.remove('volumes');
    expect(await exists(runDir)).toBe(false);
    expect(await readdir(path.join(sup.root, 'run'))).not.toContain(id.slice(0, 12));
  });

  it('removes the run folder of the version an upgrade replaced', async () => {
    const sup = await supervisor();
    const { id } = await sup.install(VOLUMES);
    await sup.enable('volumes');
    await sup.disable('volumes');
    const oldRun = path.join(sup.root, 'run', id.slice(0, 12));
    expect(await exists(oldRun)).toBe(true);
    const { previous } = await sup.upgrade('volumes', await bundle(VOLUMES, { version: '1.0.1' }));
    expect(previous).toBe(id);
    expect(await exists(oldRun)).toBe(false);
  });
});

describe('a host killed with SIGKILL while it installs, upgrades, sets and removes', () => {
  const loop = fileURLToPath(new URL('../fixtures/churn-loop.ts', import.meta.url));

  /** Runs the churn loop on `root` and kills it `extraMs` after its `afterOps`th operation. */
  async function killMidChurn(root: string, source: string, afterOps: number, extraMs: number): Promise<void> {
    const work = await tempDir('plugd-churn-');
    const child = spawn(process.execPath, ['--import', 'tsx', loop, root, source, work], { stdio: ['ignore', 'pipe', 'inherit'] });
    onCleanup(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      let seen = 0;
      let armed = false;
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk
          .toString()
          .split('\n')
          .filter((l) => l.startsWith('op ')).length;
        if (seen < afterOps || armed) return;
        armed = true;
        setTimeout(() => {
          child.kill('SIGKILL');
        }, extraMs);
      });
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`churn loop ended by itself: ${code}`))));
    });
  }

  it('leaves a store that opens with no problem, no debris, and an index that names every record folder', async () => {
    const root = path.join(await tempDir(), 'store');
    const source = await bundle('greeter');
    for (const [after, extra] of [
      [3, 0],
      [5, 2],
      [7, 5],
      [9, 1],
    ] as const) {
      await killMidChurn(root, source, after, extra);
      const { store, problems } = await Store.open(root);
      try {
        expect(problems).toEqual([]);
        const index = JSON.parse(await readFile(path.join(root, 'plugins.json'), 'utf8')) as { plugins: { id: string }[] };
        const ids = store
          .list()
          .map((r) => r.id)
          .sort();
        expect(index.plugins.map((p) => p.id).sort()).toEqual(ids);
        expect((await readdir(path.join(root, 'plugins'))).sort()).toEqual(ids);
        expect((await readdir(root)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
        for (const id of ids)
          expect((await readdir(path.join(root, 'plugins', id))).sort()).toEqual(['bundle', 'plugin.json', 'settings.json']);
        expect(await readdir(path.join(root, 'run'))).toEqual([]);
      } finally {
        await store.close();
      }
    }
  }, 90_000);
});
