// A registry download that stalls: the server sends the packument, then the tarball's headers and
// part of its bytes, then nothing. close() ends it at once (the socket is closed, not left to time
// out), and without close() it ends after registryTimeoutMs; either way nothing stays in the store.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InstallProgress, Supervisor } from '../../src/index.js';
import { supervisor } from '../helpers.js';
import { greetPackage, type StallingRegistry, stallingRegistry } from './stalling-registry.js';
import { emptyNpmConfigPerTest, useRegistry } from './npm-env.js';

emptyNpmConfigPerTest();

/**
 * `stalling` 1.0.0 installs; 2.0.0 stalls. `hosting` installs, but its dependency is `stalling`
 * 2.0.0. `hanging`'s packument never comes.
 */
async function startRegistry(): Promise<StallingRegistry> {
  const registry = await stallingRegistry({
    stalling: { '1.0.0': { packageJson: await greetPackage('stalling', '1.0.0') }, '2.0.0': { stall: true } },
    hosting: { '1.0.0': { packageJson: await greetPackage('hosting', '1.0.0', { dependencies: { stalling: '2.0.0' } }) } },
    hanging: 'hang',
  });
  useRegistry(registry.url);
  return registry;
}

/** The error code an install or upgrade ends with ('done' if it succeeds). */
function outcomeOf(work: Promise<unknown>): Promise<string | undefined> {
  return work.then(
    () => 'done',
    (e: { code?: string }) => e.code,
  );
}

/** Resolves once part of a tarball has reached the install (or once it has ended). */
function downloading(): { onProgress: (e: InstallProgress) => void; arrived: Promise<void> } {
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  return {
    onProgress: (e) => {
      if (e.step === 'download' && e.bytes > 0) arrive();
    },
    arrived,
  };
}

/** Nothing under plugins/ but the folders of `ids`: no scratch folder is left. */
async function expectPluginFolders(sup: Supervisor, ids: string[] = []): Promise<void> {
  expect((await readdir(path.join(sup.root, 'plugins'))).sort()).toEqual([...ids].sort());
}

describe('a registry download that stalls mid-tarball', () => {
  it('is aborted by close(): the socket closes, the install rejects with PLUGD_E_CLOSED, nothing stays', async () => {
    const registry = await startRegistry();
    const sup = await supervisor({ registryTimeoutMs: 60_000 });
    const { onProgress, arrived } = downloading();
    const outcome = outcomeOf(sup.install('npm:stalling@^2', { onProgress }));
    await Promise.race([arrived, outcome]);
    await sup.close();
    // close() resolved, a minute before registryTimeoutMs: the client closed the socket (the server never does).
    await registry.stalledSocketClosed;
    expect(registry.closedByServer()).toBe(false);
    expect(await outcome).toBe('PLUGD_E_CLOSED');
    expect(sup.list()).toEqual([]);
    await expectPluginFolders(sup);
  }, 20_000);

  it('is aborted by close() during an upgrade: the installed version stays as it was', async () => {
    const registry = await startRegistry();
    const sup = await supervisor({ registryTimeoutMs: 60_000 });
    const { id, name } = await sup.install('npm:stalling@1.0.0');
    const { onProgress, arrived } = downloading();
    const outcome = outcomeOf(sup.upgrade(name, 'npm:stalling@^2', { onProgress }));
    await Promise.race([arrived, outcome]);
    await sup.close();
    await registry.stalledSocketClosed;
    expect(registry.closedByServer()).toBe(false);
    expect(await outcome).toBe('PLUGD_E_CLOSED');
    expect(sup.list().map((p) => [p.id, p.version])).toEqual([[id, '1.0.0']]);
    await expectPluginFolders(sup, [id]);
  }, 20_000);

  it("is aborted by close() while npm installs the package's dependencies: npm is killed", async () => {
    const registry = await startRegistry();
    const sup = await supervisor({ registryTimeoutMs: 60_000 });
    const outcome = outcomeOf(sup.install('npm:hosting'));
    await Promise.race([registry.stalled, outcome]);
    await sup.close();
    await registry.stalledSocketClosed;
    expect(registry.closedByServer()).toBe(false);
    expect(await outcome).toBe('PLUGD_E_CLOSED');
    expect(sup.list()).toEqual([]);
    await expectPluginFolders(sup);
  }, 20_000);

  it('is aborted by close() while the packument has not come', async () => {
    const registry = await startRegistry();
    const sup = await supervisor({ registryTimeoutMs: 60_000 });
    const outcome = outcomeOf(sup.install('npm:hanging'));
    await Promise.race([registry.stalled, outcome]);
    await sup.close();
    await registry.stalledSocketClosed;
    expect(registry.closedByServer()).toBe(false);
    expect(await outcome).toBe('PLUGD_E_CLOSED');
    await expectPluginFolders(sup);
  }, 20_000);

  it('gives up after registryTimeoutMs with PLUGD_E_REGISTRY, leaving the store untouched', async () => {
    const registry = await startRegistry();
    const sup = await supervisor({ registryTimeoutMs: 1_000 });
    const outcome = outcomeOf(sup.install('npm:stalling@^2'));
    await registry.stalled;
    expect(await outcome).toBe('PLUGD_E_REGISTRY');
    await registry.stalledSocketClosed;
    expect(registry.closedByServer()).toBe(false);
    expect(sup.list()).toEqual([]);
    await expectPluginFolders(sup);
  });
});
