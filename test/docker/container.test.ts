import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundle, nextState, onCleanup, recordStates, supervisor, tempDir } from '../helpers.js';
import { docker, requireEngine } from './engine.js';
import type { Supervisor } from '../../src/index.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/docker-container/', import.meta.url));
const HOST = fileURLToPath(new URL('../fixtures/docker-host.ts', import.meta.url));

requireEngine();

/** The IDs of the containers, running or not, that the supervisor of `root` made. */
async function containersOf(root: string): Promise<string[]> {
  const out = await docker('ps', '--all', '--quiet', '--no-trunc', '--filter', `label=io.plugd.root=${path.resolve(root)}`);
  return out === '' ? [] : out.split('\n');
}

async function inspectContainer(
  id: string,
): Promise<{ Config: Record<string, any>; HostConfig: Record<string, any>; State: Record<string, any> }> {
  return JSON.parse(await docker('container', 'inspect', id))[0];
}

/** Closes the supervisor after the test, then removes whatever a failed test left of its containers. */
function removeLeftovers(sup: Supervisor): void {
  onCleanup(async () => {
    await sup.close();
    const left = await containersOf(sup.root);
    if (left.length > 0) await docker('rm', '--force', ...left).catch(() => undefined);
  });
}

describe('a container plugin ("kind": "container")', () => {
  it("runs in a container with the manifest's limits, answers calls, logs, and leaves nothing after disable", async () => {
    const sup = await supervisor();
    removeLeftovers(sup);
    const seen = recordStates(sup);
    await sup.install(await bundle(FIXTURE, { user: '1000:1000', readOnly: true, memoryMb: 96, pids: 64, cpus: 0.5 }));
    await sup.enable('docker-container');
    expect(sup.inspect('docker-container')).toMatchObject({ kind: 'container', state: 'running', implements: ['VolumeDriver'] });

    const driver = await sup.get('docker-container', 'VolumeDriver');
    await expect(driver.call('VolumeDriver.Create', { Name: 'data' })).resolves.toEqual({});
    await expect(driver.call('VolumeDriver.List', {})).resolves.toEqual({
      Volumes: [{ Name: 'data', Mountpoint: '/var/lib/plugd-volumes/data' }],
    });
    await expect
      .poll(async () => (await sup.logs('docker-container')).map((l) => l.msg))
      .toEqual(['volume driver listening', 'created volume data']);
    expect((await sup.logs('docker-container'))[0]).toMatchObject({ plugin: 'docker-container', instance: 1, stream: 'stdout' });

    const [id] = await containersOf(sup.root);
    const { Config, HostConfig } = await inspectContainer(id!);
    expect(Config).toMatchObject({ Image: 'local/plugd-volumes', User: '1000:1000', Labels: { 'io.plugd.plugin': 'docker-container' } });
    expect(Config.Env).toContain('PLUGD_SOCKET=/run/plugd/volumes.sock');
    expect(HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      Memory: 96 * 1024 * 1024,
      PidsLimit: 64,
      NanoCpus: 500_000_000,
      NetworkMode: 'none',
      RestartPolicy: { Name: 'no' },
      Binds: [`${path.join(sup.root, 'run', sup.inspect('docker-container').id.slice(0, 12))}:/run/plugd`],
    });

    await sup.disable('docker-container');
    expect(seen.map((e) => e.to)).toEqual(['installed', 'enabled', 'activating', 'running', 'stopping', 'disabled']);
    await sup.close(); // waits for the removals
    expect(await containersOf(sup.root)).toEqual([]);
  });

  it('is restarted by plugd, not by Docker, when its container is killed, in a new container', async () => {
    const sup = await supervisor({ restart: { backoff: { initialMs: 10 } } });
    removeLeftovers(sup);
    await sup.install(FIXTURE);
    await sup.enable('docker-container');
    const [first] = await containersOf(sup.root);
    const restarted = nextState(sup, 'docker-container', 'running', () => sup.inspect('docker-container').instance?.number === 2);
    await docker('kill', first!);
    await restarted;
    await expect((await sup.get('docker-container', 'VolumeDriver')).call('VolumeDriver.List', {})).resolves.toEqual({ Volumes: [] });
    // The killed container is removed; only the new one is left.
    await expect.poll(() => containersOf(sup.root)).toHaveLength(1);
    expect(await containersOf(sup.root)).not.toContain(first);
    await sup.disable('docker-container');
    await sup.remove('docker-container');
    await sup.close();
    expect(await containersOf(sup.root)).toEqual([]);
  });

  it('stops with SIGTERM, then SIGKILL after stopTimeoutMs when the plugin ignores SIGTERM', async () => {
    const sup = await supervisor({ stopTimeoutMs: 300 });
    removeLeftovers(sup);
    await sup.install(
      await bundle(FIXTURE, {
        cmd: ['node', '-e', "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); import('/plugin/server.mjs')"],
      }),
    );
    await sup.enable('docker-container');
    const [id] = await containersOf(sup.root);
    await sup.disable('docker-container');
    await expect.poll(async () => (await sup.logs('docker-container')).map((l) => l.msg)).toContain('ignoring SIGTERM');
    await sup.close();
    expect(await containersOf(sup.root)).toEqual([]);
    await expect(docker('container', 'inspect', id!)).rejects.toThrow(/No such container/);
  });

  it('ends with PLUGD_E_PLUGIN_OOM when the container reaches memoryMb, and is restarted by its policy', async () => {
    const sup = await supervisor();
    removeLeftovers(sup);
    await sup.install(
      await bundle(FIXTURE, {
        memoryMb: 48,
        restart: { policy: 'on-failure', maxRetries: 1 },
        cmd: [
          'node',
          '-e',
          "import('/plugin/server.mjs'); setTimeout(() => { const held = []; for (;;) held.push(Buffer.alloc(1 << 20, 1)); }, 300)",
        ],
      }),
    );
    const oom = nextState(sup, 'docker-container', 'restarting', (e) => e.error?.code === 'PLUGD_E_PLUGIN_OOM');
    // The container may reach its limit before or after the handshake: enable() may reject.
    await sup.enable('docker-container').catch(() => undefined);
    await oom;
  });

  it("has its output rate-limited like a process plugin's: a flood is dropped and counted", async () => {
    const sup = await supervisor({ logs: { ratePerSec: 100, burst: 200 } });
    removeLeftovers(sup);
    await sup.install(
      await bundle(FIXTURE, {
        cmd: [
          'node',
          '-e',
          "for (let i = 0; i < 20000; i++) (i % 2 ? console.error : console.log)('flood line ' + i); import('/plugin/server.mjs')",
        ],
      }),
    );
    await sup.enable('docker-container');
    await expect
      .poll(
        () => {
          const { logs } = sup.inspect('docker-container');
          return logs.lines + logs.dropped;
        },
        { timeout: 10_000 },
      )
      .toBe(20_001);
    expect(sup.inspect('docker-container').logs.lines).toBeLessThan(1_000);
    const lines = await sup.logs('docker-container', { tail: 1_000 });
    expect(new Set(lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('flood line')).map((l) => l.stream))).toEqual(
      new Set(['stdout', 'stderr']),
    );
  });

  it('removes, when a supervisor opens the root, the containers that a SIGKILLed predecessor left', async () => {
    const root = path.join(await tempDir(), 'store');
    const host = spawn(process.execPath, ['--import', 'tsx', HOST, root, FIXTURE], { stdio: ['ignore', 'pipe', 'inherit'] });
    onCleanup(() => host.kill('SIGKILL'));
    onCleanup(async () => {
      const left = await containersOf(root);
      if (left.length > 0) await docker('rm', '--force', ...left);
    });
    host.stdout.setEncoding('utf8');
    const [line] = (await once(host.stdout, 'data')) as [string];
    expect(line).toBe('running\n');
    host.kill('SIGKILL');
    await once(host, 'exit');
    const [left] = await containersOf(root);
    expect((await inspectContainer(left!)).State.Running).toBe(true);

    const sup = await supervisor({ root, restore: false });
    await sup.close(); // waits for the sweep
    expect(await containersOf(root)).toEqual([]);
  });
});
