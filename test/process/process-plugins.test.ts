import { stat } from 'node:fs/promises';
import { getPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alive, bundle, nextState, recordStates, supervisor, tempDir } from '../helpers.js';

const VOLUMES = fileURLToPath(new URL('../../examples/bundles/volumes/', import.meta.url));

describe("a process plugin speaking Docker's protocol", () => {
  it('goes through the whole lifecycle: install, enable, calls, logs, disable, remove', async () => {
    const sup = await supervisor();
    const seen = recordStates(sup);
    const { id } = await sup.install(VOLUMES);
    await sup.enable('volumes');
    expect(sup.inspect('volumes')).toMatchObject({ kind: 'process', state: 'running', implements: ['VolumeDriver'] });
    const driver = await sup.get('volumes', 'VolumeDriver');
    await expect(driver.call('VolumeDriver.Create', { Name: 'data', Opts: { size: '1G' } })).resolves.toEqual({});
    await expect(driver.call('VolumeDriver.Mount', { Name: 'data', ID: 'c1' })).resolves.toEqual({
      Mountpoint: '/var/lib/plugd-volumes/data',
    });
    await expect(driver.call('VolumeDriver.List', {})).resolves.toEqual({
      Volumes: [{ Name: 'data', Mountpoint: '/var/lib/plugd-volumes/data' }],
    });
    await expect
      .poll(async () => (await sup.logs('volumes')).map((l) => l.msg))
      .toEqual(['volume driver listening', 'created volume data']);
    expect((await sup.logs('volumes'))[0]).toMatchObject({ plugin: 'volumes', instance: 1, stream: 'stdout' });

    // The socket lives in <root>/run/<id prefix>/, a folder only the host user can enter.
    const runDir = path.join(sup.root, 'run', id.slice(0, 12));
    expect((await stat(runDir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(runDir, 'volumes.sock'))).mode & 0o777).toBe(0o600);

    await sup.disable('volumes');
    await expect(driver.call('VolumeDriver.List', {})).rejects.toMatchObject({ code: 'PLUGD_E_NOT_RUNNING' });
    await sup.remove('volumes');
    expect(seen.map((e) => e.to)).toEqual(['installed', 'enabled', 'activating', 'running', 'stopping', 'disabled', 'removed']);
  });

  it('rejects { Err } (PLUGD_E_PLUGIN_ERROR), an unknown method (PLUGD_E_METHOD), arguments JSON cannot carry (PLUGD_E_CALL)', async () => {
    const sup = await supervisor();
    await sup.install(VOLUMES);
    await sup.enable('volumes');
    const driver = await sup.get('volumes', 'VolumeDriver');
    await expect(driver.call('VolumeDriver.Remove', { Name: 'ghost' })).rejects.toMatchObject({
      code: 'PLUGD_E_PLUGIN_ERROR',
      message: expect.stringContaining('volume "ghost" does not exist'),
    });
    await expect(driver.call('VolumeDriver.Nope', {})).rejects.toMatchObject({
      code: 'PLUGD_E_METHOD',
      message: expect.stringContaining('unknown method'),
    });
    await expect(driver.call('VolumeDriver.Create', { Name: 10n })).rejects.toMatchObject({ code: 'PLUGD_E_CALL' });
    expect(sup.inspect('volumes').state).toBe('running');
  });
});

describe('process plugins that misbehave', () => {
  it('drops and counts a flood on stdout and stderr beyond one rate limit per instance, with a notice', async () => {
    const sup = await supervisor({ logs: { ratePerSec: 100, burst: 200 } });
    await sup.install(await bundle('proc-flood'));
    await sup.enable('proc-flood');
    await (await sup.get('proc-flood', 'Flood')).call('Flood.Burst', { lines: 20_000 });
    // The pump counts lines as they arrive, after the call has returned.
    await expect
      .poll(
        () => {
          const { logs } = sup.inspect('proc-flood');
          return logs.lines + logs.dropped;
        },
        { timeout: 10_000 },
      )
      .toBe(20_000);
    const { logs } = sup.inspect('proc-flood');
    expect(logs.lines).toBeLessThan(1_000); // one bucket for both streams, not one each
    const tail = async () => sup.logs('proc-flood', { tail: 1_000 });
    await expect
      .poll(async () => (await tail()).reduce((sum, l) => sum + (typeof l.dropped === 'number' ? l.dropped : 0), 0), { timeout: 10_000 })
      .toBe(logs.dropped);
    const lines = await tail();
    // Which stream's lines the shared bucket let through depends on how the pump's reads of the two
    // sockets interleave; each line kept says its stream.
    const kept = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('flood line'));
    expect(kept.length).toBeGreaterThan(0);
    for (const line of kept) expect(['stdout', 'stderr']).toContain(line.stream);
    expect(lines.find((l) => typeof l.dropped === 'number')).toMatchObject({ plugin: 'proc-flood', instance: 1, level: 40 });
  });

  it('cuts off a plugin that never creates its socket at activationTimeoutMs', async () => {
    const sup = await supervisor({ activationTimeoutMs: 600 });
    await sup.install(await bundle('proc-nosocket'));
    await expect(sup.enable('proc-nosocket')).rejects.toMatchObject({ code: 'PLUGD_E_ACTIVATION_TIMEOUT' });
    expect(sup.inspect('proc-nosocket')).toMatchObject({ state: 'disabled', instance: null });
  });

  it('refuses to start a plugin whose socket path would pass the 107-byte limit, saying why', async () => {
    const root = path.join(await tempDir(), 'a-store-root-with-a-deliberately-long-name-'.repeat(2), 'store');
    const sup = await supervisor({ root });
    await sup.install(VOLUMES);
    await expect(sup.enable('volumes')).rejects.toMatchObject({
      code: 'PLUGD_E_ACTIVATION',
      message: expect.stringContaining('107 bytes'),
    });
    expect(sup.inspect('volumes').lastError?.code).toBe('PLUGD_E_ACTIVATION');
  });

  it('cuts off a plugin that accepts the connection and never answers', async () => {
    const sup = await supervisor({ activationTimeoutMs: 600 });
    await sup.install(await bundle('proc-silent'));
    await expect(sup.enable('proc-silent')).rejects.toMatchObject({ code: 'PLUGD_E_ACTIVATION_TIMEOUT' });
  });

  it('restarts a plugin that exits non-zero as its policy says, with backoff, then gives up', async () => {
    const sup = await supervisor();
    const seen = recordStates(sup);
    await sup.install(await bundle('proc-exit'));
    const disabled = nextState(sup, 'proc-exit', 'disabled');
    await expect(sup.enable('proc-exit')).rejects.toMatchObject({
      code: 'PLUGD_E_PLUGIN_EXITED',
      message: expect.stringContaining('code 3'),
    });
    await disabled;
    expect(sup.inspect('proc-exit')).toMatchObject({ restarts: 2, gaveUp: expect.stringContaining('on-failure:2') });
    const waits: number[] = [];
    for (let i = 0; i < seen.length; i++) {
      if (seen[i]!.to === 'restarting' && seen[i + 1]?.to === 'activating') waits.push(seen[i + 1]!.at - seen[i]!.at);
    }
    // The first restart at once, the second after the backoff's 200 ms.
    expect(waits).toHaveLength(2);
    expect(waits[1]).toBeGreaterThanOrEqual(195);
    await expect.poll(async () => (await sup.logs('proc-exit')).map((l) => l.msg)).toContain('proc-exit: giving up');
  });

  it('kills a plugin whose socket stops answering (SIGTERM, then SIGKILL) and restarts it', async () => {
    const sup = await supervisor({ watchdogMs: 300, stopTimeoutMs: 300 });
    await sup.install(await bundle('proc-hang'));
    await sup.enable('proc-hang');
    const client = await sup.get('proc-hang', 'Spin');
    const { pong: pid } = (await client.call('Spin.Ping', {})) as { pong: number };
    const restarted = nextState(sup, 'proc-hang', 'running');
    await expect(client.call('Spin.Forever', {})).rejects.toMatchObject({ code: 'PLUGD_E_PLUGIN_HUNG' });
    await restarted;
    // It ignores SIGTERM: only the SIGKILL after the grace period ended it.
    await expect.poll(() => alive(pid), { timeout: 5_000 }).toBe(false);
    expect(sup.inspect('proc-hang')).toMatchObject({ state: 'running', restarts: 1, lastError: { code: 'PLUGD_E_PLUGIN_HUNG' } });
    const { pong: next } = (await client.call('Spin.Ping', {})) as { pong: number };
    expect(next).not.toBe(pid);
  });

  it('stops the plugin and its children on disable', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('proc-family'));
    await sup.enable('proc-family');
    const pids = (await (await sup.get('proc-family', 'Family')).call('Family.Pids', {})) as { plugin: number; child: number };
    expect(alive(pids.plugin) && alive(pids.child)).toBe(true);
    // The plugin (and what it starts) inherits pluginNice from its wrapper.
    if (process.platform === 'linux') expect([getPriority(pids.plugin), getPriority(pids.child)]).toEqual([10, 10]);
    await sup.disable('proc-family');
    await expect.poll(() => alive(pids.plugin) || alive(pids.child), { timeout: 5_000 }).toBe(false);
  });
});
