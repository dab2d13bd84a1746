// What a crash or a finished plugin leaves behind is swept: temp files of atomic writes when the
// store opens, run folders (sockets) when the store opens and when a plugin is removed or upgraded.
import { access, mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundle, supervisor } from '../helpers.js';

const VOLUMES = fileURLToPath(new URL('../../examples/bundles/volumes/', import.meta.url));
const exists = (file: string) => access(file).then(() => true, () => false);

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
