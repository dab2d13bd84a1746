// Ctrl-C on `plugd install npm:…` / `plugd upgrade`: the CLI ends its request, the daemon sees its
// client go and cancels the install (its registry download is cut off), and the CLI exits 130,
// saying so once on stderr. The daemon keeps no record and no scratch folder.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { useStallingRegistry } from '../registry/stalling-registry.js';
import { emptyNpmConfigPerTest } from '../registry/npm-env.js';
import { daemon, plugd, start } from './run-plugd.js';

emptyNpmConfigPerTest();

const parse = (text: string): unknown => JSON.parse(text);

/** The folders under the store's plugins/ (a scratch folder is named .incoming-…). */
async function pluginFolders(root: string): Promise<string[]> {
  const dir = path.join(root, 'plugins');
  return existsSync(dir) ? (await readdir(dir)).sort() : [];
}

describe('Ctrl-C on plugd install / upgrade', () => {
  it('install npm:…: exit 130, said once; the daemon cancels the download and records nothing', async () => {
    const registry = await useStallingRegistry();
    const root = path.join(await tempDir('plugd-cli-'), 'root');
    const d = await daemon(root);
    const install = start(root, 'install', 'npm:stalling@^2');
    await registry.stalled; // the daemon is downloading the tarball, which will never end
    expect(await install.stop('SIGINT')).toBe(130);
    expect(install.stderr().match(/interrupted/g)).toHaveLength(1);
    expect(install.stdout()).toBe('');
    // The daemon cancelled the install (not timed out: registryTimeoutMs is 30 s) and closed its
    // download socket (the registry never does).
    await d.waitFor('install of npm:stalling@^2 cancelled', 'stderr');
    await registry.stalledSocketClosed;
    expect(registry.closedByServer()).toBe(false);
    expect(await pluginFolders(root)).toEqual([]);
    const ls = await plugd(root, '--json', 'ls');
    expect(ls.code).toBe(0);
    expect(parse(ls.stdout)).toEqual([]);
    expect(await d.stop('SIGTERM')).toBe(0);
    expect(await pluginFolders(root)).toEqual([]);
  }, 25_000);

  it('upgrade to npm:…: exit 130; the installed version stays', async () => {
    const registry = await useStallingRegistry();
    const root = path.join(await tempDir('plugd-cli-'), 'root');
    const d = await daemon(root);
    const installed = await plugd(root, '--json', 'install', 'npm:stalling@1.0.0');
    expect(installed.code).toBe(0);
    const { id } = parse(installed.stdout) as { id: string };
    const upgrade = start(root, 'upgrade', 'stalling', 'npm:stalling@^2');
    await registry.stalled;
    expect(await upgrade.stop('SIGINT')).toBe(130);
    expect(upgrade.stderr().match(/interrupted/g)).toHaveLength(1);
    await d.waitFor('upgrade of stalling to npm:stalling@^2 cancelled', 'stderr');
    await registry.stalledSocketClosed;
    expect(registry.closedByServer()).toBe(false);
    expect(await pluginFolders(root)).toEqual([id]);
    expect(parse((await plugd(root, '--json', 'ls')).stdout)).toMatchObject([{ name: 'stalling', id, version: '1.0.0' }]);
    expect((await plugd(root, 'enable', 'stalling')).code).toBe(0);
    expect(await d.stop('SIGTERM')).toBe(0);
  }, 25_000);
});
