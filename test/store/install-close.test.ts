// close() during an install: the install ends (PLUGD_E_CLOSED) and its scratch folder is gone
// before close() resolves, so that nothing in the store changes afterwards.
import { existsSync, readdirSync } from 'node:fs';
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

/** The small files of the big archive, written after its large one. */
const SMALL_FILES = 8_000;

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
  for (let i = 0; i < SMALL_FILES; i++) entries.push({ name: `data/f${i}.txt`, body: small });
  return writeTgz(await tempDir('plugd-big-'), 'big.tgz', entries);
}

/** The ids of this process's threads (/proc/self/task). */
function threads(): Set<number> {
  return new Set(readdirSync('/proc/self/task').map(Number));
}

describe('close() while an archive is being installed', () => {
  it('waits for the install to end and its scratch folder to be removed: the store does not change after', async () => {
    const archive = await bigArchive();
    const before = threads(); // the task pool's threads start after this, and must all end with close()
    const sup = await supervisor();
    let settled = false;
    const install = sup.install(archive);
    const outcome = install.then(
      () => 'installed',
      (e: { code?: string }) => e.code,
    );
    void outcome.then(() => {
      settled = true;
    });
    // The unpack is under way: its large file has appeared in the scratch folder...
    const plugins = path.join(sup.root, 'plugins');
    const scratch = (): string | undefined => readdirSync(plugins).find((name) => name.startsWith('.incoming-unpack-'));
    const unpacking = (): boolean => {
      const dir = scratch();
      return dir !== undefined && existsSync(path.join(plugins, dir, 'data', 'large.bin'));
    };
    await expect.poll(unpacking, { timeout: 60_000 }).toBe(true);
    // ...and is not over when close() is called: its last file is not there yet.
    expect(existsSync(path.join(plugins, scratch()!, 'data', `f${SMALL_FILES - 1}.txt`))).toBe(false);
    expect(settled).toBe(false);
    await sup.close();
    const settledAtClose = settled;
    const atClose = await tree(sup.root);
    const code = await outcome;
    // Every thread started since (the task pool's, the unpack's among them) has ended: whatever
    // write the unpack had left has landed by now.
    await expect.poll(() => [...threads()].filter((tid) => !before.has(tid)), { timeout: 30_000 }).toEqual([]);
    expect(await tree(sup.root)).toEqual(atClose);
    expect(atClose.filter((p) => p.includes('.incoming-'))).toEqual([]);
    expect(settledAtClose).toBe(true);
    expect(code).toBe('PLUGD_E_CLOSED');
    expect(JSON.parse(await readFile(path.join(sup.root, 'plugins.json'), 'utf8').catch(() => '{"plugins":[]}')).plugins).toEqual([]);
  }, 120_000);
});
