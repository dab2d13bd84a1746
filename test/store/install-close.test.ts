// close() during an install: the install ends (PLUGD_E_CLOSED) and its scratch folder is gone
// before close() resolves, so that nothing in the store changes afterwards.
import { watch } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, supervisor, tempDir } from '../helpers.js';
import { type TarEntry, writeTgz } from './tar-builder.js';

/** Every path under `root` with its size: what a change to the store would show in. */
async function tree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  const sized = await Promise.all(
    entries.map(async (rel) => {
      const info = await stat(path.join(root, rel)).catch(() => null);
      return `${rel} ${info?.isFile() ? info.size : '-'}`;
    }),
  );
  return sized.sort();
}

/** A greeter archive that takes a while to unpack: thousands of files and a large one. */
async function bigArchive(): Promise<string> {
  const greeter = path.join(FIXTURES, 'greeter');
  const entries: TarEntry[] = [
    { name: 'plugin.json', body: await readFile(path.join(greeter, 'plugin.json')) },
    { name: 'index.mjs', body: await readFile(path.join(greeter, 'index.mjs')) },
    { name: 'data/', type: '5', mode: 0o755 },
    { name: 'data/large.bin', body: Buffer.alloc(32 * 1024 * 1024) },
  ];
  const small = Buffer.alloc(1024, 'x');
  for (let i = 0; i < 8_000; i++) entries.push({ name: `data/f${i}.txt`, body: small });
  return writeTgz(await tempDir('plugd-big-'), 'big.tgz', entries);
}

/** Resolves once a folder whose name starts with `prefix` appears in `dir`. */
function appears(dir: string, prefix: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir, (_event, name) => {
      if (name?.startsWith(prefix)) {
        watcher.close();
        resolve();
      }
    });
    watcher.on('error', reject);
  });
}

describe('close() while an archive is being installed', () => {
  it('waits for the install to end and its scratch folder to be removed: the store does not change after', async () => {
    const archive = await bigArchive();
    const sup = await supervisor();
    const unpacking = appears(path.join(sup.root, 'plugins'), '.incoming-unpack-');
    let settled = false;
    const install = sup.install(archive);
    const outcome = install.then(
      () => 'installed',
      (e: { code?: string }) => e.code,
    );
    void outcome.then(() => {
      settled = true;
    });
    await unpacking;
    await sup.close();
    const settledAtClose = settled;
    const atClose = await tree(sup.root);
    const code = await outcome;
    expect(await tree(sup.root)).toEqual(atClose);
    expect(atClose.filter((p) => p.includes('.incoming-'))).toEqual([]);
    expect(settledAtClose).toBe(true);
    expect(code).toBe('PLUGD_E_CLOSED');
    expect(JSON.parse(await readFile(path.join(sup.root, 'plugins.json'), 'utf8').catch(() => '{"plugins":[]}')).plugins).toEqual([]);
  }, 120_000);
});
