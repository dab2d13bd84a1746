// InstallOptions.signal: a caller cancels one install or upgrade. A registry download that stalls
// mid-tarball ends at once (the socket is closed), an unpack is let finish; either way the install
// rejects with PLUGD_E_ABORTED, its scratch folder gone and nothing recorded. An abort after the
// store write has begun no longer applies.
import { existsSync, readdirSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlugdError } from '../../src/index.js';
import { bundle, FIXTURES, supervisor, tempDir } from '../helpers.js';
import { type TarEntry, writeTgz } from '../store/tar-builder.js';
import { downloading, expectPluginFolders, useStallingRegistry } from './stalling-registry.js';
import { emptyNpmConfigPerTest } from './npm-env.js';

emptyNpmConfigPerTest();

/** The error an install or upgrade ends with ('done' if it succeeds). */
function failureOf(work: Promise<unknown>): Promise<PlugdError | 'done'> {
  return work.then(
    () => 'done' as const,
    (e: PlugdError) => e,
  );
}

/** Every path under `root` with its size and mtime: what any change to the store would show in. */
async function tree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  const described = await Promise.all(
    entries.map(async (rel) => {
      const info = await stat(path.join(root, rel));
      return `${rel} ${info.isFile() ? info.size : '-'} ${info.mtimeMs}`;
    }),
  );
  return described.sort();
}

describe('InstallOptions.signal during a registry download that stalls', () => {
  it('ends the install at once: the socket closes, PLUGD_E_ABORTED with the reason as cause, nothing stays', async () => {
    const registry = await useStallingRegistry();
    const sup = await supervisor({ registryTimeoutMs: 60_000 });
    const { onProgress, arrived } = downloading();
    const controller = new AbortController();
    const outcome = failureOf(sup.install('npm:stalling@^2', { onProgress, signal: controller.signal }));
    await Promise.race([arrived, outcome]);
    const reason = new Error('the operator changed their mind');
    controller.abort(reason);
    const error = await outcome;
    // Rejected a minute before registryTimeoutMs, and the client closed the socket (the server never does).
    expect(error).toBeInstanceOf(PlugdError);
    expect((error as PlugdError).code).toBe('PLUGD_E_ABORTED');
    expect((error as PlugdError).cause).toBe(reason);
    await registry.stalledSocketClosed;
    expect(registry.closedByServer()).toBe(false);
    expect(sup.list()).toEqual([]);
    await expectPluginFolders(sup);
  }, 20_000);

  it('ends an upgrade: 1.0.0 stays installed, its folder intact, and runs', async () => {
    const registry = await useStallingRegistry();
    const sup = await supervisor({ registryTimeoutMs: 60_000 });
    const { id, name } = await sup.install('npm:stalling@1.0.0');
    const before = await tree(path.join(sup.root, 'plugins', id));
    const { onProgress, arrived } = downloading();
    const controller = new AbortController();
    const outcome = failureOf(sup.upgrade(name, 'npm:stalling@^2', { onProgress, signal: controller.signal }));
    await Promise.race([arrived, outcome]);
    controller.abort();
    const error = await outcome;
    expect((error as PlugdError).code).toBe('PLUGD_E_ABORTED');
    expect((error as PlugdError).cause).toBeInstanceOf(DOMException); // abort()'s default reason
    await registry.stalledSocketClosed;
    expect(registry.closedByServer()).toBe(false);
    expect(sup.list().map((p) => [p.id, p.version])).toEqual([[id, '1.0.0']]);
    await expectPluginFolders(sup, [id]);
    expect(await tree(path.join(sup.root, 'plugins', id))).toEqual(before);
    await sup.enable(name);
    await expect((await sup.get(name, 'Greeter')).call('Greeter.Hello', { name: 'Ada' })).resolves.toMatchObject({
      greeting: 'hello Ada',
    });
  }, 30_000);
});

describe('InstallOptions.signal already aborted', () => {
  it('rejects at once: nothing under the root changes, no download starts', async () => {
    const registry = await useStallingRegistry();
    const sup = await supervisor({ registryTimeoutMs: 60_000 });
    const installed = await sup.install(await bundle('greeter'));
    const before = await tree(sup.root);
    const reason = new Error('too late');
    const signal = AbortSignal.abort(reason);
    const archive = await writeTgz(await tempDir('plugd-tgz-'), 'greeter.tgz', await greeterEntries());
    const other = await bundle('greeter', { name: 'other' });
    const newer = await bundle('greeter', { version: '2.0.0' });
    for (const work of [
      () => sup.install('npm:stalling@^2', { signal }),
      () => sup.install(other, { signal }),
      () => sup.install(archive, { signal }),
      () => sup.upgrade(installed.name, newer, { signal }),
      () => sup.upgrade(installed.name, 'npm:stalling@^2', { signal }),
    ]) {
      const error = await failureOf(work());
      expect((error as PlugdError).code).toBe('PLUGD_E_ABORTED');
      expect((error as PlugdError).cause).toBe(reason);
    }
    expect(await tree(sup.root)).toEqual(before);
    expect(sup.list().map((p) => p.id)).toEqual([installed.id]);
    // The stalled tarball was never asked for: the server saw no request for it.
    let asked = false;
    void registry.stalled.then(() => (asked = true));
    await sup.close();
    expect(asked).toBe(false);
  });

  it('is refused when it is not an AbortSignal', async () => {
    const sup = await supervisor();
    const error = await failureOf(sup.install(await bundle('greeter'), { signal: {} as AbortSignal }));
    expect((error as PlugdError).code).toBe('PLUGD_E_OPTION');
    expect(sup.list()).toEqual([]);
  });
});

describe('InstallOptions.signal after the install', () => {
  it('changes nothing once the promise has resolved', async () => {
    const sup = await supervisor();
    const controller = new AbortController();
    const { id, name } = await sup.install(await bundle('greeter'), { signal: controller.signal });
    const before = await tree(sup.root);
    controller.abort();
    expect(await tree(sup.root)).toEqual(before);
    await sup.enable(name);
    expect(sup.list().map((p) => [p.id, p.enabled])).toEqual([[id, true]]);
    await sup.disable(name);
    const upgrade = new AbortController();
    const upgraded = await sup.upgrade(name, await bundle('greeter', { version: '9.0.0' }), { signal: upgrade.signal });
    upgrade.abort();
    expect(sup.list().map((p) => [p.id, p.version])).toEqual([[upgraded.id, '9.0.0']]);
    await expectPluginFolders(sup, [upgraded.id]);
  });
});

/** A greeter bundle's files, for an archive. */
async function greeterEntries(): Promise<TarEntry[]> {
  const greeter = path.join(FIXTURES, 'greeter');
  return [
    { name: 'plugin.json', body: await readFile(path.join(greeter, 'plugin.json')) },
    { name: 'index.mjs', body: await readFile(path.join(greeter, 'index.mjs')) },
  ];
}

/** The small files of the big archive, written after its large one. */
const SMALL_FILES = 8_000;

/** A greeter archive that takes a while to unpack: thousands of files and a large one. */
async function bigArchive(): Promise<string> {
  const entries: TarEntry[] = [...(await greeterEntries()), { name: 'data/', type: '5', mode: 0o755 }];
  entries.push({ name: 'data/large.bin', body: Buffer.alloc(32 * 1024 * 1024) });
  const small = Buffer.alloc(1024, 'x');
  for (let i = 0; i < SMALL_FILES; i++) entries.push({ name: `data/f${i}.txt`, body: small });
  return writeTgz(await tempDir('plugd-big-'), 'big.tgz', entries);
}

describe('InstallOptions.signal during an unpack', () => {
  it('lets the unpack finish, then removes its folder and rejects with PLUGD_E_ABORTED: nothing is recorded', async () => {
    const archive = await bigArchive();
    const sup = await supervisor();
    const controller = new AbortController();
    let settled = false;
    const outcome = failureOf(sup.install(archive, { signal: controller.signal }));
    void outcome.then(() => (settled = true));
    const plugins = path.join(sup.root, 'plugins');
    const scratch = (): string | undefined => readdirSync(plugins).find((name) => name.startsWith('.incoming-unpack-'));
    const unpacking = (): boolean => {
      const dir = scratch();
      return dir !== undefined && existsSync(path.join(plugins, dir, 'data', 'large.bin'));
    };
    await expect.poll(unpacking, { timeout: 60_000 }).toBe(true);
    const dir = path.join(plugins, scratch()!);
    // The unpack is under way (its last file is not there yet) when the signal aborts.
    expect(existsSync(path.join(dir, 'data', `f${SMALL_FILES - 1}.txt`))).toBe(false);
    expect(settled).toBe(false);
    controller.abort();
    const error = await outcome;
    expect((error as PlugdError).code).toBe('PLUGD_E_ABORTED');
    // Rejected once the unpack had ended and its folder was removed.
    expect(existsSync(dir)).toBe(false);
    await expectPluginFolders(sup);
    expect(sup.list()).toEqual([]);
    // The store works on: the same archive installs without a signal.
    await expect(sup.install(archive)).resolves.toMatchObject({ name: 'greeter' });
  }, 120_000);
});
