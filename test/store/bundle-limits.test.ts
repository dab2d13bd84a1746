// Archive entries node-tar would skip (GNU sparse, unknown typeflags) and bundles with too many
// entries are refused with PLUGD_E_BUNDLE, and the store is left as it was.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSupervisor } from '../../src/index.js';
import { FIXTURES, bundle, silent, supervisor, tempDir } from '../helpers.js';
import { writeTgz, type TarEntry } from './tar-builder.js';

/** The greeter fixture's files as archive entries under `package/`. */
async function greeterEntries(): Promise<TarEntry[]> {
  const dir = path.join(FIXTURES, 'greeter');
  return [
    { name: 'package/', type: '5', mode: 0o755 },
    { name: 'package/plugin.json', body: await readFile(path.join(dir, 'plugin.json')) },
    { name: 'package/index.mjs', body: await readFile(path.join(dir, 'index.mjs')) },
  ];
}

/** Everything in the store but its lock, logs and sockets. */
async function storeContents(root: string): Promise<string[]> {
  const top = (await readdir(root)).filter((n) => !['plugd.lock', 'logs', 'run', 'plugins'].includes(n));
  return [...top, ...(await readdir(path.join(root, 'plugins'))).map((n) => `plugins/${n}`)];
}

describe('archive entries a bundle may not hold', () => {
  it('refuses a GNU sparse entry instead of installing without it', async () => {
    const work = await tempDir('plugd-tar-');
    const archive = await writeTgz(work, 'sparse.tgz', [
      ...(await greeterEntries()),
      { name: 'package/lib.mjs', type: 'S', body: 'export const lib = 1;\n' },
    ]);
    const sup = await supervisor();
    await expect(sup.install(archive)).rejects.toMatchObject({ code: 'PLUGD_E_BUNDLE', message: expect.stringContaining('lib.mjs') });
    expect(await storeContents(sup.root)).toEqual([]);
  });

  it('refuses an entry of an unknown type', async () => {
    const work = await tempDir('plugd-tar-');
    const archive = await writeTgz(work, 'unknown.tgz', [
      ...(await greeterEntries()),
      { name: 'package/data.bin', type: 'Z', body: 'payload' },
    ]);
    const sup = await supervisor();
    await expect(sup.install(archive)).rejects.toMatchObject({ code: 'PLUGD_E_BUNDLE', message: expect.stringContaining('data.bin') });
    expect(await storeContents(sup.root)).toEqual([]);
  });

  it('still installs the same files written as plain entries', async () => {
    const work = await tempDir('plugd-tar-');
    const archive = await writeTgz(work, 'plain.tgz', [
      ...(await greeterEntries()),
      { name: 'package/lib.mjs', body: 'export const lib = 1;\n' },
    ]);
    const sup = await supervisor();
    const { id } = await sup.install(archive);
    await expect(readFile(path.join(sup.root, 'plugins', id, 'bundle', 'lib.mjs'), 'utf8')).resolves.toBe('export const lib = 1;\n');
  });
});

describe('the number of entries in a bundle', () => {
  const emptyFiles = (n: number): TarEntry[] => Array.from({ length: n }, (_, i) => ({ name: `package/empty/${i}.txt` }));

  it('refuses an archive of more entries than the default bound (10,000)', async () => {
    const work = await tempDir('plugd-tar-');
    const archive = await writeTgz(work, 'many.tgz', [
      ...(await greeterEntries()),
      { name: 'package/empty/', type: '5', mode: 0o755 },
      ...emptyFiles(10_000),
    ]);
    const sup = await supervisor();
    const refusal = await sup.install(archive).catch((e: unknown) => e);
    expect(refusal).toMatchObject({ code: 'PLUGD_E_BUNDLE', message: expect.stringContaining('10000') });
    expect(await storeContents(sup.root)).toEqual([]);
  }, 60_000);

  it('installs more entries when maxBundleEntries allows them, and refuses past it', async () => {
    const work = await tempDir('plugd-tar-');
    const archive = await writeTgz(work, 'some.tgz', [
      ...(await greeterEntries()),
      { name: 'package/empty/', type: '5', mode: 0o755 },
      ...emptyFiles(60),
    ]);
    const strict = await supervisor({ maxBundleEntries: 50 });
    await expect(strict.install(archive)).rejects.toMatchObject({
      code: 'PLUGD_E_BUNDLE',
      message: expect.stringContaining('maxBundleEntries'),
    });
    const roomy = await supervisor({ maxBundleEntries: 100 });
    await expect(roomy.install(archive)).resolves.toMatchObject({ name: 'greeter' });
  });

  it('applies the same bound to a bundle folder', async () => {
    const dir = await bundle('greeter');
    await mkdir(path.join(dir, 'empty'));
    for (let i = 0; i < 60; i += 1) await writeFile(path.join(dir, 'empty', `${i}.txt`), '');
    const strict = await supervisor({ maxBundleEntries: 50 });
    await expect(strict.install(dir)).rejects.toMatchObject({
      code: 'PLUGD_E_BUNDLE',
      message: expect.stringContaining('maxBundleEntries'),
    });
    expect(await storeContents(strict.root)).toEqual([]);
    await expect((await supervisor({ maxBundleEntries: 100 })).install(dir)).resolves.toMatchObject({ name: 'greeter' });
  });

  it('takes maxBundleEntries only as a whole number ≥ 1', async () => {
    const root = path.join(await tempDir(), 'store');
    for (const bad of [0, -1, 1.5, '100', Number.NaN]) {
      await expect(createSupervisor({ root, logger: silent, maxBundleEntries: bad as number })).rejects.toMatchObject({
        code: 'PLUGD_E_OPTION',
        details: { option: 'maxBundleEntries' },
      });
    }
  });
});
