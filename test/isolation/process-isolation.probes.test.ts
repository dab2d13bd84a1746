// Hostile probes run inside a plugin with "isolation": "process": each must fail, and a control
// probe that is allowed shows the failures come from the confinement, not from a broken probe.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PluginClient } from '../../src/index.js';
import { bundle, onCleanup, supervisor, tempDir } from '../helpers.js';

type Outcome = { ok: true; value: unknown } | { ok: false; code: string };
const DENIED = { ok: false, code: 'ERR_ACCESS_DENIED' };

async function probe() {
  const marker = `host-secret-${randomUUID()}`;
  process.env.PLUGD_TEST_HOST_MARKER = marker;
  onCleanup(() => {
    delete process.env.PLUGD_TEST_HOST_MARKER;
  });
  const root = path.join(await tempDir(), 'store');
  const sup = await supervisor({ root });
  const { id } = await sup.install(await bundle('iso-probe'));
  await sup.enable('iso-probe');
  const client: PluginClient = await sup.get('iso-probe', 'Probe');
  const run = (method: string, args: unknown = {}) => client.call(method, args) as Promise<Outcome>;
  const plugin = path.join(root, 'plugins', id);
  return { sup, root, id, run, marker, plugin, bundleDir: path.join(plugin, 'bundle'), dataDir: path.join(root, 'data', id) };
}

describe('a plugin with "isolation": "process" cannot reach outside its confinement', () => {
  it('reads its own bundle, and nothing else: not the store, not its settings, not /etc', async () => {
    const { run, root, bundleDir, plugin } = await probe();
    await expect(run('Probe.Read', { file: path.join(bundleDir, 'plugin.json') })).resolves.toMatchObject({ ok: true });
    for (const file of [
      path.join(root, 'plugins.json'),
      path.join(plugin, 'settings.json'),
      '/etc/hostname',
      '/etc/passwd',
      path.join(bundleDir, '..', 'plugin.json'),
    ]) {
      await expect(run('Probe.Read', { file }), file).resolves.toEqual(DENIED);
    }
    await expect(run('Probe.ReadAsync', { file: path.join(root, 'plugins.json') })).resolves.toEqual(DENIED);
    await expect(run('Probe.List', { dir: root })).resolves.toEqual(DENIED);
  });

  it('writes in its data folder only: not its bundle, not the store, not /tmp; and makes no symlink out', async () => {
    const { run, root, bundleDir, dataDir } = await probe();
    await expect(run('Probe.Write', { file: path.join(dataDir, 'mine.txt') })).resolves.toMatchObject({ ok: true });
    await expect(readFile(path.join(dataDir, 'mine.txt'), 'utf8')).resolves.toBe('written by iso-probe');
    for (const file of [
      path.join(bundleDir, 'index.mjs'),
      path.join(root, 'plugins.json'),
      path.join(root, 'evil.txt'),
      '/tmp/iso-probe-escaped.txt',
    ]) {
      await expect(run('Probe.Write', { file }), file).resolves.toEqual(DENIED);
    }
    await expect(readFile(path.join(root, 'plugins.json'), 'utf8')).resolves.not.toContain('written by iso-probe');
    await expect(run('Probe.Symlink', { target: '/etc/hostname', link: path.join(dataDir, 'link') })).resolves.toEqual(DENIED);
  });

  it('starts no child process, no worker thread and no native addon', async () => {
    const { run } = await probe();
    await expect(run('Probe.Spawn')).resolves.toEqual({ spawnSync: DENIED, execSync: DENIED, spawn: DENIED, fork: DENIED });
    await expect(run('Probe.Worker')).resolves.toEqual(DENIED);
    await expect(run('Probe.Addon')).resolves.toEqual({ ok: false, code: 'ERR_DLOPEN_DISABLED' });
  });

  it("holds only its own env: the host's is in neither process.env nor /proc/self/environ", async () => {
    const { run, marker } = await probe();
    const { env, environ, pid } = (await run('Probe.Env')) as unknown as { env: Record<string, string>; environ: Outcome; pid: number };
    expect(env.OWN).toBe('mine');
    expect(env.PLUGD_TEST_HOST_MARKER).toBeUndefined();
    expect(JSON.stringify(env)).not.toContain(marker);
    expect(environ).toEqual(DENIED);
    // Read from outside as well: the process's whole initial environment holds nothing of the host's.
    const initial = await readFile(`/proc/${pid}/environ`, 'latin1');
    expect(initial).toContain('OWN=mine');
    expect(initial).not.toContain(marker);
    expect(initial).not.toContain('PATH=');
  });

  it('cannot signal the host, any other process, or renice the host; it may signal itself', async () => {
    const { run } = await probe();
    const result = (await run('Probe.KillHost')) as unknown as Record<string, Outcome>;
    expect(result).toMatchObject({
      ppid: process.pid,
      kill: { ok: false, code: 'EPERM' },
      rawKill: { ok: false, code: 'errno -1' },
      everyone: { ok: false, code: 'EPERM' },
      renice: { ok: false, code: 'EPERM' },
      self: { ok: true, value: true },
    });
  });

  it("is NOT confined on the network: Node 20's permission model has no net permission (a host's UNIX socket is reachable)", async () => {
    const dir = await tempDir();
    const socket = path.join(dir, 'host.sock');
    const server = net.createServer((c) => c.end('hello from the host'));
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    onCleanup(() => new Promise((resolve) => server.close(resolve)));
    const { run } = await probe();
    await expect(run('Probe.Connect', { socket })).resolves.toEqual({ ok: true, value: 'hello from the host' });
  });

  it('(control) the same probes get through in a plugin with "isolation": "thread": they are real probes', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('iso-probe', { isolation: 'thread' }));
    await sup.enable('iso-probe');
    const client = await sup.get('iso-probe', 'Probe');
    await expect(client.call('Probe.Read', { file: '/etc/hostname' })).resolves.toMatchObject({ ok: true });
    await expect(client.call('Probe.Spawn')).resolves.toMatchObject({ spawnSync: { ok: true, value: 0 } });
    const { environ } = (await client.call('Probe.Env')) as { environ: { ok: boolean; value: string } };
    // /proc/self/environ is the host process's initial environment: its PATH at least.
    expect(environ.value).toContain('PATH=');
  });
});
