import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nextState, onCleanup, supervisor } from '../helpers.js';
import { docker, MANAGED_PLUGIN, requireEngine } from './engine.js';

/** Made, disabled, by scripts/docker-engine.sh: the example volume driver as a managed plugin. */
const PLUGIN = MANAGED_PLUGIN;

requireEngine();

async function enableManaged(): Promise<string> {
  await docker('plugin', 'enable', PLUGIN);
  onCleanup(() => docker('plugin', 'disable', '--force', PLUGIN).catch(() => undefined));
  return docker('plugin', 'inspect', '--format', '{{.Id}}', PLUGIN);
}

describe("discovery of Docker's managed plugins (docker plugin enable)", () => {
  it('finds the plugin at <plugins dir>/<plugin id>/<socket>, named through the Engine API, and calls it', async () => {
    const sup = await supervisor({ watchdogMs: 300 });
    const id = await enableManaged();
    const { activated } = await sup.discover();
    expect(activated).toContain(PLUGIN);
    expect(sup.inspect(PLUGIN)).toMatchObject({ kind: 'external', state: 'running', implements: ['VolumeDriver'] });
    expect(sup.list().map((p) => p.name)).not.toContain(id);

    const driver = await sup.get(PLUGIN, 'VolumeDriver');
    await expect(driver.call('VolumeDriver.Create', { Name: 'managed' })).resolves.toEqual({});
    await expect(driver.call('VolumeDriver.List', {})).resolves.toEqual({
      Volumes: [{ Name: 'managed', Mountpoint: '/var/lib/plugd-volumes/managed' }],
    });

    // Docker owns it: once `docker plugin disable` stops it, the health probes mark it, and plugd does not restart it.
    const stopped = nextState(sup, PLUGIN, 'disabled');
    await docker('plugin', 'disable', PLUGIN);
    await stopped;
    expect(sup.inspect(PLUGIN)).toMatchObject({ state: 'disabled', instance: null, lastError: { code: 'PLUGD_E_PLUGIN_HUNG' } });
    await expect(driver.call('VolumeDriver.List', {})).rejects.toMatchObject({ code: 'PLUGD_E_NOT_RUNNING' });
  });

  it('names a managed plugin by its ID when no engine answers', async () => {
    const id = await enableManaged();
    const sup = await supervisor({ watchdogMs: 300 });
    const host = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${path.join(sup.root, 'no-engine.sock')}`;
    try {
      const { activated } = await sup.discover();
      expect(activated).toContain(id);
    } finally {
      if (host === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = host;
    }
    await expect((await sup.get(id, 'VolumeDriver')).call('VolumeDriver.List', {})).resolves.toEqual({ Volumes: [] });
  });
});
