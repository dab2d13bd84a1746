import { describe, expect, it } from 'vitest';
import type { Supervisor } from '../../src/index.js';
import { supervisor } from '../helpers.js';
import { downloading, expectPluginFolders, greetPackage, type StallingRegistry, useStallingRegistry } from './stalling-registry.js';
import { emptyNpmConfigPerTest } from './npm-env.js';

emptyNpmConfigPerTest();

/** Beside `stalling`: `hosting` installs, but its dependency is `stalling` 2.0.0; `hanging`'s packument never comes. */
async function startRegistry(): Promise<StallingRegistry> {
  return useStallingRegistry({
    hosting: { '1.0.0': { packageJson: await greetPackage('hosting', '1.0.0', { dependencies: { stalling: '2.0.0' } }) } },
    hanging: 'hang',
  });
}

/** The error code an install or upgrade ends with ('done' if it succeeds). */
function outcomeOf(work: Promise<unknown>): Promise<string | undefined> {
  return work.then(
    () => 'done',
    (e: { code?: string }) => e.code,
  );
}

/**
 * close() while the registry stalls: it resolves long before registryTimeoutMs (60 s here), the
 * client closed the stalled socket (the server never does), and the install ended with PLUGD_E_CLOSED.
 */
async function closeDuringStall(sup: Supervisor, registry: StallingRegistry, outcome: Promise<string | undefined>): Promise<void> {
  await sup.close();
  await registry.stalledSocketClosed;
  expect(registry.closedByServer()).toBe(false);
  expect(await outcome).toBe('PLUGD_E_CLOSED');
}

describe('a registry download that stalls mid-tarball', () => {
  it('is aborted by close(): the socket closes, the install rejects with PLUGD_E_CLOSED, nothing stays', async () => {
    const registry = await startRegistry();
    const sup = await supervisor({ registryTimeoutMs: 60_000 });
    const { onProgress, arrived } = downloading();
    const outcome = outcomeOf(sup.install('npm:stalling@^2', { onProgress }));
    await Promise.race([arrived, outcome]);
    await closeDuringStall(sup, registry, outcome);
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
    await closeDuringStall(sup, registry, outcome);
    expect(sup.list().map((p) => [p.id, p.version])).toEqual([[id, '1.0.0']]);
    await expectPluginFolders(sup, [id]);
  }, 20_000);

  it("is aborted by close() while npm installs the package's dependencies: npm is killed", async () => {
    const registry = await startRegistry();
    const sup = await supervisor({ registryTimeoutMs: 60_000 });
    const outcome = outcomeOf(sup.install('npm:hosting'));
    await Promise.race([registry.stalled, outcome]);
    await closeDuringStall(sup, registry, outcome);
    expect(sup.list()).toEqual([]);
    await expectPluginFolders(sup);
  }, 20_000);

  it('is aborted by close() while the packument has not come', async () => {
    const registry = await startRegistry();
    const sup = await supervisor({ registryTimeoutMs: 60_000 });
    const outcome = outcomeOf(sup.install('npm:hanging'));
    await Promise.race([registry.stalled, outcome]);
    await closeDuringStall(sup, registry, outcome);
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
