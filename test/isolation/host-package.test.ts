import { mkdir, readlink, realpath, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundle, supervisor, tempDir } from '../helpers.js';

/** The plugd package the tests run: this repository. */
const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** A store root under os.tmpdir(), far from any node_modules that holds plugd. */
async function tmpRoot(): Promise<string> {
  const root = path.join(await tempDir('plugd-store-'), 'store');
  expect(path.relative(PACKAGE_ROOT, root).startsWith('..')).toBe(true);
  return root;
}

describe("plugins that import plugd by name, from a store outside the host's project", () => {
  it('a worker plugin imports definePlugin from "plugd" and "plugd/sdk", both the host\'s own copy', async () => {
    const sup = await supervisor({ root: await tmpRoot() });
    await sup.install(await bundle('imports-plugd'));
    await sup.enable('imports-plugd');
    const where = await (await sup.get('imports-plugd', 'Where')).call<{ plugd: string; sdk: string; same: boolean }>('Where.Plugd');
    const host = pathToFileURL(await realpath(PACKAGE_ROOT)).href;
    expect(where.plugd.startsWith(`${host}/`)).toBe(true);
    expect(where.sdk.startsWith(`${host}/`)).toBe(true);
    expect(where.same).toBe(true);
  });

  it('a worker plugin finds it on a warm standby thread too', async () => {
    const sup = await supervisor({ root: await tmpRoot(), warmWorkers: 1 });
    await sup.warmed();
    await sup.install(await bundle('imports-plugd'));
    await sup.enable('imports-plugd');
    await expect((await sup.get('imports-plugd', 'Where')).call('Where.Plugd')).resolves.toMatchObject({ same: true });
  });

  it('a node process plugin imports servePlugin from "plugd/sdk"', async () => {
    const sup = await supervisor({ root: await tmpRoot() });
    await sup.install(await bundle('proc-imports-sdk'));
    await sup.enable('proc-imports-sdk');
    const where = await (await sup.get('proc-imports-sdk', 'Where')).call<{ sdk: string }>('Where.Sdk');
    expect(where.sdk.startsWith(`${pathToFileURL(await realpath(PACKAGE_ROOT)).href}/`)).toBe(true);
  });

  it('a worker plugin with "isolation": "process" imports definePlugin from "plugd/sdk" under the permission model', async () => {
    const sup = await supervisor({ root: await tmpRoot() });
    await sup.install(await bundle('iso-imports-sdk'));
    await sup.enable('iso-imports-sdk');
    const where = await (await sup.get('iso-imports-sdk', 'Where')).call<{ sdk: string }>('Where.Sdk');
    expect(where.sdk.startsWith(`${pathToFileURL(await realpath(PACKAGE_ROOT)).href}/`)).toBe(true);
  });

  it("re-points a link another copy of plugd left in the store at the host's copy", async () => {
    const root = await tmpRoot();
    const elsewhere = await tempDir('plugd-other-copy-');
    await mkdir(path.join(root, 'node_modules'), { recursive: true });
    await symlink(elsewhere, path.join(root, 'node_modules', 'plugd'), 'dir');
    const sup = await supervisor({ root });
    await sup.install(await bundle('imports-plugd'));
    await sup.enable('imports-plugd');
    expect(await readlink(path.join(root, 'node_modules', 'plugd'))).toBe(PACKAGE_ROOT);
  });
});
