// Bundles as archives (.tgz, as `npm pack` makes them): unpacked on the task pool into a scratch
// folder of the store, checked like folders, and refused, with the store untouched, when they
// would reach outside themselves.
import { execFileSync } from 'node:child_process';
import { chmod, cp, link, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { create } from 'tar';
import { describe, expect, it } from 'vitest';
import { bundle, supervisor, tempDir } from '../helpers.js';

/** A .tgz of `dir`'s contents under `prefix/` (npm pack uses `package/`), or at the root. */
async function pack(dir: string, prefix: string | null, options: { preservePaths?: boolean } = {}): Promise<string> {
  const work = await tempDir('plugd-pack-');
  const file = path.join(work, 'bundle.tgz');
  if (prefix === null) {
    await create({ gzip: true, file, cwd: dir, preservePaths: options.preservePaths }, await readdir(dir));
  } else {
    await cp(dir, path.join(work, prefix), { recursive: true, verbatimSymlinks: true });
    await create({ gzip: true, file, cwd: work }, [prefix]);
  }
  return file;
}

/** What the store holds besides its lock, logs and sockets: nothing after a refused install. */
async function storeContents(root: string): Promise<string[]> {
  const top = (await readdir(root)).filter((n) => !['plugd.lock', 'logs', 'run', 'node_modules'].includes(n));
  return [...top, ...(await readdir(path.join(root, 'plugins'))).map((n) => `plugins/${n}`)].filter((n) => n !== 'plugins');
}

describe('a bundle archive', () => {
  it('installs as npm pack makes it (package/ at the top), runs, and gets the ID of the same folder', async () => {
    const dir = await bundle('greeter');
    await mkdir(path.join(dir, 'bin'));
    await writeFile(path.join(dir, 'bin', 'tool.sh'), '#!/bin/sh\necho tool\n');
    await chmod(path.join(dir, 'bin', 'tool.sh'), 0o755); // the exec bit is part of the digest
    const fromFolder = await (await supervisor()).install(dir);

    const sup = await supervisor();
    const fromArchive = await sup.install(await pack(dir, 'package'));
    expect(fromArchive).toEqual(fromFolder);
    await sup.enable('greeter');
    const greeter = await sup.get('greeter', 'Greeter');
    await expect(greeter.call('Greeter.Hello', { name: 'tgz' })).resolves.toMatchObject({ greeting: 'hello tgz' });
    expect(await storeContents(sup.root)).toEqual(['plugins.json', `plugins/${fromArchive.id}`]); // no scratch left
  });

  it('installs an archive with plugin.json at its root', async () => {
    const sup = await supervisor();
    await expect(sup.install(await pack(await bundle('greeter'), null))).resolves.toMatchObject({ name: 'greeter' });
  });

  it('refuses an entry that climbs out of the archive, and leaves the store untouched', async () => {
    const outer = await tempDir('plugd-evil-');
    const inner = path.join(outer, 'inner');
    await cp(await bundle('greeter'), inner, { recursive: true });
    await writeFile(path.join(outer, 'escaped.txt'), 'should never be written next to the scratch folder');
    const work = await tempDir('plugd-pack-');
    const file = path.join(work, 'evil.tgz');
    await create({ gzip: true, file, cwd: inner, preservePaths: true }, ['plugin.json', 'index.mjs', '../escaped.txt']);

    const sup = await supervisor();
    await expect(sup.install(file)).rejects.toMatchObject({ code: 'PLUGD_E_BUNDLE', message: expect.stringContaining('..') });
    expect(await storeContents(sup.root)).toEqual([]);
    expect(await readdir(sup.root)).not.toContain('escaped.txt');
  });

  it('refuses hard links and symlinks that point out of the bundle', async () => {
    // GNU tar records the second name of a file as a hard link (node-tar would store a copy).
    const hard = await tempDir('plugd-hard-');
    await cp(await bundle('greeter'), path.join(hard, 'package'), { recursive: true });
    await link(path.join(hard, 'package', 'index.mjs'), path.join(hard, 'package', 'again.mjs'));
    const hardArchive = path.join(hard, 'hard.tgz');
    execFileSync('tar', ['-czf', hardArchive, '-C', hard, 'package']);
    const sup = await supervisor();
    await expect(sup.install(hardArchive)).rejects.toMatchObject({ code: 'PLUGD_E_BUNDLE', message: expect.stringContaining('Link') });

    const soft = await bundle('greeter');
    await symlink('/etc/passwd', path.join(soft, 'passwd'));
    await expect(sup.install(await pack(soft, 'package'))).rejects.toMatchObject({
      code: 'PLUGD_E_BUNDLE',
      message: expect.stringContaining('absolute linkpath'),
    });
    expect(await storeContents(sup.root)).toEqual([]);
  });

  it('refuses a file that is not an archive, and an archive without plugin.json, saying which', async () => {
    const sup = await supervisor();
    const junk = path.join(await tempDir(), 'junk.tgz');
    await writeFile(junk, 'not a tar archive at all');
    await expect(sup.install(junk)).rejects.toMatchObject({ code: 'PLUGD_E_BUNDLE', message: expect.stringContaining('junk.tgz') });

    const two = await tempDir('plugd-two-');
    await mkdir(path.join(two, 'a'));
    await mkdir(path.join(two, 'b'));
    await writeFile(path.join(two, 'a', 'plugin.json'), '{}');
    await expect(sup.install(await pack(two, null))).rejects.toMatchObject({
      code: 'PLUGD_E_BUNDLE',
      message: expect.stringContaining('no plugin.json'),
    });
    expect(await storeContents(sup.root)).toEqual([]);
  });
});
