import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PERMISSION_FLAG } from '../../src/isolation/permission-flags.js';
import { alive, bundle, nextState, supervisor, tempDir } from '../helpers.js';

/** The command line of a live process, one argument per entry. */
async function cmdline(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
}

async function started(options: Parameters<typeof supervisor>[0] = {}, overrides: Record<string, unknown> = {}) {
  const root = path.join(await tempDir(), 'store');
  const sup = await supervisor({ root, ...options });
  const { id } = await sup.install(await bundle('iso-basic', overrides));
  await sup.enable('iso-basic');
  const client = await sup.get('iso-basic', 'Iso');
  const hello = (await client.call('Iso.Hello', { name: 'Ada' })) as { greeting: string; instance: number; pid: number };
  return { sup, root, id, client, hello };
}

describe('a worker-contract plugin with "isolation": "process"', () => {
  it('runs in a Node process of its own under the permission model and answers calls', async () => {
    const { sup, client, hello } = await started();
    expect(sup.inspect('iso-basic')).toMatchObject({ state: 'running', implements: ['Iso'], lastError: null });
    expect(hello).toMatchObject({ greeting: 'hello Ada', instance: 1 });
    expect(hello.pid).not.toBe(process.pid);
    const argv = await cmdline(hello.pid);
    expect(argv).toContain(PERMISSION_FLAG);
    expect(argv).toContain('--max-old-space-size=128');
    expect(
      argv.some((a) => a.startsWith('--allow-child-process') || a.startsWith('--allow-worker') || a.startsWith('--allow-addons')),
    ).toBe(false);

    const value = { when: new Date(0), bytes: new Uint8Array([1, 2]), nested: new Map([['k', [1, 2]]]) };
    await expect(client.call('Iso.Echo', value)).resolves.toEqual(value);
    const failed = await client.call('Iso.Fail', { message: 'not today' }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'PLUGD_E_PLUGIN_ERROR', cause: { code: 'EISO', message: 'not today' } });
    await expect(client.call('Iso.Nope')).rejects.toMatchObject({ code: 'PLUGD_E_METHOD' });
    await expect(client.call('Iso.Unsendable')).rejects.toMatchObject({ code: 'PLUGD_E_PLUGIN_ERROR' });
    await expect(client.call('Iso.Echo', { fn: () => 1 })).rejects.toMatchObject({ code: 'PLUGD_E_CALL' });
    expect(sup.inspect('iso-basic').state).toBe('running');
  });

  it('writes into a data folder of its own, <root>/data/<id>/', async () => {
    const { root, id, client } = await started();
    await expect(client.call('Iso.Keep', { text: 'kept' })).resolves.toBe('kept');
    await expect(readFile(path.join(root, 'data', id, 'kept.txt'), 'utf8')).resolves.toBe('kept');
  });

  it("sends console output and ctx.log lines to the plugin's log, tagged with plugin and instance", async () => {
    const { sup, client } = await started();
    await client.call('Iso.Log', { lines: ['first line', 'second line'] });
    await expect
      .poll(async () => (await sup.logs('iso-basic')).map((l) => l.msg))
      .toEqual(expect.arrayContaining(['iso-basic activating', 'first line', 'second line', 'logged {"count":2}']));
    const lines = await sup.logs('iso-basic');
    expect(lines.find((l) => l.msg === 'first line')).toMatchObject({ plugin: 'iso-basic', instance: 1, stream: 'stdout', level: 30 });
    expect(lines.find((l) => l.msg.startsWith('logged'))).toMatchObject({ stream: 'stderr', level: 40 });
    expect(sup.inspect('iso-basic').logs.lines).toBeGreaterThanOrEqual(4);
  });

  it('drops and counts a log flood beyond the rate limit', async () => {
    const { sup, client } = await started({ logs: { ratePerSec: 10, burst: 10 } });
    await client.call('Iso.Log', { lines: Array.from({ length: 200 }, (_, i) => `flood line ${i}`) });
    await expect.poll(() => sup.inspect('iso-basic').logs.dropped).toBeGreaterThan(100);
    await expect.poll(async () => (await sup.logs('iso-basic')).some((l) => typeof l.dropped === 'number')).toBe(true);
  });

  it('restarts after a crash; the pending call rejects with PLUGD_E_PLUGIN_EXITED', async () => {
    const { sup, client, hello } = await started();
    const restarted = nextState(sup, 'iso-basic', 'running');
    await expect(client.call('Iso.Crash')).rejects.toMatchObject({
      code: 'PLUGD_E_PLUGIN_EXITED',
      message: expect.stringContaining('uncaught on purpose'),
    });
    await restarted;
    expect(sup.inspect('iso-basic')).toMatchObject({ state: 'running', restarts: 1 });
    const again = (await client.call('Iso.Hello', { name: 'Ada' })) as typeof hello;
    expect(again.instance).toBe(2);
    expect(again.pid).not.toBe(hello.pid);
  });

  it('is found hung when it busy-loops, killed and restarted (PLUGD_E_PLUGIN_HUNG)', async () => {
    const { sup, client, hello } = await started({ watchdogMs: 200 });
    const restarted = nextState(sup, 'iso-basic', 'running');
    const spin = client.call('Iso.Spin');
    const queued = client.call('Iso.Hello', { name: 'behind the loop' });
    await expect(spin).rejects.toMatchObject({ code: 'PLUGD_E_PLUGIN_HUNG' });
    await expect(queued).rejects.toMatchObject({ code: 'PLUGD_E_PLUGIN_HUNG' });
    await restarted;
    expect(sup.inspect('iso-basic').lastError?.code).toBe('PLUGD_E_PLUGIN_HUNG');
    await expect.poll(() => alive(hello.pid)).toBe(false);
    await expect(client.call('Iso.Hello', { name: 'Ada' })).resolves.toMatchObject({ instance: 2 });
  });

  it('reports a process out of its heap as PLUGD_E_PLUGIN_OOM', async () => {
    // The watchdog kept out: a process thrashing in GC near its limit spends CPU without
    // answering pings, and was judged hung before the heap ran out on a loaded machine.
    const { sup, client } = await started({ memoryLimitMb: 32, watchdogMs: 60_000 });
    const restarted = nextState(sup, 'iso-basic', 'running');
    await expect(client.call('Iso.Hoard')).rejects.toMatchObject({ code: 'PLUGD_E_PLUGIN_OOM' });
    await restarted;
    expect(sup.inspect('iso-basic').lastError?.code).toBe('PLUGD_E_PLUGIN_OOM');
  });

  it('ends the instance, never the host, on a malformed IPC message (PLUGD_E_PROTOCOL)', async () => {
    const { sup, client } = await started();
    const restarted = nextState(sup, 'iso-basic', 'running');
    await expect(client.call('Iso.Garbage')).rejects.toMatchObject({ code: 'PLUGD_E_PROTOCOL' });
    await restarted;
    expect(sup.inspect('iso-basic').lastError?.code).toBe('PLUGD_E_PROTOCOL');
    await expect(client.call('Iso.Hello', { name: 'Ada' })).resolves.toMatchObject({ instance: 2 });
  });

  it('stops on disable: deactivate() runs, then the process is gone', async () => {
    const { sup, client, hello } = await started();
    await sup.disable('iso-basic');
    expect(sup.inspect('iso-basic')).toMatchObject({ state: 'disabled', instance: null });
    await expect(client.call('Iso.Hello', { name: 'Ada' })).rejects.toMatchObject({ code: 'PLUGD_E_NOT_RUNNING' });
    await expect.poll(() => alive(hello.pid)).toBe(false);
    await expect.poll(async () => (await sup.logs('iso-basic')).map((l) => l.msg)).toContain('iso-basic deactivating');
  });

  it('cuts off an activate() that never returns at activationTimeoutMs', async () => {
    const sup = await supervisor({ activationTimeoutMs: 500 });
    await sup.install(await bundle('iso-basic', { restart: 'no' }));
    await sup.set('iso-basic', ['ACTIVATE=never']);
    await expect(sup.enable('iso-basic')).rejects.toMatchObject({ code: 'PLUGD_E_ACTIVATION_TIMEOUT' });
    expect(sup.inspect('iso-basic')).toMatchObject({ state: 'disabled', instance: null });
  });

  it('creates its data folder at activation, and runs from it', async () => {
    const { root, id, hello } = await started();
    expect(existsSync(path.join(root, 'data', id))).toBe(true);
    const argv = await cmdline(hello.pid);
    expect(argv).toContain(`--allow-fs-write=${path.join(root, 'data', id)}`);
  });
});
