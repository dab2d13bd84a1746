// An installed bundle never depends on anything outside the store: a symlink is kept only if it
// means the same thing in the store's copy (relative, and resolving inside the bundle at every step).
import { lstat, mkdir, readFile, readlink, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, supervisor } from '../helpers.js';

/** The greeter bundle with its entrypoint moved to real.mjs and `index.mjs` made a link to it. */
async function greeterLinkedAs(target: (dir: string) => string): Promise<string> {
  const dir = await bundle('greeter');
  await rename(path.join(dir, 'index.mjs'), path.join(dir, 'real.mjs'));
  await symlink(target(dir), path.join(dir, 'index.mjs'));
  return dir;
}

describe('symlinks in a bundle folder', () => {
  it('refuses an absolute link into the bundle, which would tie the installed plugin to its source folder', async () => {
    const dir = await greeterLinkedAs((d) => path.join(d, 'real.mjs'));
    const sup = await supervisor();
    await expect(sup.install(dir)).rejects.toMatchObject({ code: 'PLUGD_E_BUNDLE', message: expect.stringContaining('index.mjs') });
    expect(sup.list()).toEqual([]);
  });

  it('refuses a relative link that leaves the bundle and comes back in through its folder name', async () => {
    const dir = await greeterLinkedAs((d) => `../${path.basename(d)}/real.mjs`);
    const sup = await supervisor();
    await expect(sup.install(dir)).rejects.toMatchObject({ code: 'PLUGD_E_BUNDLE' });
  });

  it('refuses a link whose steps go above the bundle even though its end is inside', async () => {
    const dir = await bundle('greeter');
    await mkdir(path.join(dir, 'sub'));
    await symlink('..', path.join(dir, 'sub', 'up')); // sub/up is the bundle's root
    await symlink(`up/../${path.basename(dir)}/index.mjs`, path.join(dir, 'sub', 'again.mjs')); // root/.. is outside
    await expect((await supervisor()).install(dir)).rejects.toMatchObject({
      code: 'PLUGD_E_BUNDLE',
      message: expect.stringContaining('again.mjs'),
    });
  });

  it('keeps a relative link inside the bundle, which runs from the store copy', async () => {
    const dir = await greeterLinkedAs(() => 'real.mjs');
    const sup = await supervisor();
    const { id } = await sup.install(dir);
    const installed = path.join(sup.root, 'plugins', id, 'bundle', 'index.mjs');
    expect((await lstat(installed)).isSymbolicLink()).toBe(true);
    expect(await readlink(installed)).toBe('real.mjs');
    // The source may change or go: the installed plugin runs what was installed.
    await writeFile(path.join(dir, 'real.mjs'), 'throw new Error("the source folder was run")');
    await sup.enable('greeter');
    await expect((await sup.get('greeter', 'Greeter')).call('Greeter.Hello', { name: 'store' })).resolves.toMatchObject({
      greeting: 'hello store',
    });
    expect(await readFile(path.join(sup.root, 'plugins', id, 'bundle', 'real.mjs'), 'utf8')).not.toContain('source folder');
  });
});
