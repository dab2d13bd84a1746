import { describe, expect, it } from 'vitest';
import { createSupervisor, isPlugdError } from '../src/index.js';
import { bundle, onCleanup, recordStates, silent, supervisor } from './helpers.js';

describe('a worker plugin from install to removal', () => {
  it('installs, enables, is looked up by capability, answers calls, disables and is removed', async () => {
    const sup = await supervisor();
    const seen = recordStates(sup);
    const { id, name } = await sup.install(await bundle('greeter'));
    expect(name).toBe('greeter');
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(sup.inspect('greeter')).toMatchObject({ state: 'installed', enabled: false, restarts: 0 });

    await sup.enable('greeter');
    expect(sup.inspect('greeter')).toMatchObject({ state: 'running', enabled: true, implements: ['Greeter'], lastError: null });
    const greeter = await sup.get('greeter', 'Greeter');
    await expect(greeter.call('Greeter.Hello', { name: 'Ada' })).resolves.toMatchObject({ greeting: 'hello Ada' });
    expect(sup.find('Greeter').map((c) => c.name)).toEqual(['greeter']);
    expect(sup.list({ capability: 'Greeter', enabled: true }).map((p) => p.name)).toEqual(['greeter']);

    await sup.disable('greeter');
    expect(sup.inspect('greeter')).toMatchObject({ state: 'disabled', enabled: false });
    await expect(greeter.call('Greeter.Hello', { name: 'Ada' })).rejects.toMatchObject({ code: 'PLUGD_E_NOT_RUNNING' });
    expect(sup.find('Greeter')).toEqual([]);

    await sup.remove('greeter');
    expect(() => sup.inspect('greeter')).toThrow(expect.objectContaining({ code: 'PLUGD_E_NOT_FOUND' }));
    expect(seen.map((e) => `${e.from}->${e.to}`)).toEqual([
      'null->installed',
      'installed->enabled',
      'enabled->activating',
      'activating->running',
      'running->stopping',
      'stopping->disabled',
      'disabled->removed',
    ]);
    expect(seen.every((e) => e.error === null)).toBe(true);
  });

  it('finds a plugin by its ID or an ID prefix', async () => {
    const sup = await supervisor();
    const { id } = await sup.install(await bundle('greeter'));
    expect(sup.inspect(id).name).toBe('greeter');
    expect(sup.inspect(id.slice(0, 12)).name).toBe('greeter');
  });

  it('rejects lookups of unknown plugins and capabilities with stable codes', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter'));
    await expect(sup.get('nope', 'Greeter')).rejects.toMatchObject({ code: 'PLUGD_E_NOT_FOUND' });
    await expect(sup.get('greeter', 'VolumeDriver')).rejects.toMatchObject({ code: 'PLUGD_E_CAPABILITY' });
    await expect(sup.enable('nope')).rejects.toSatisfy((e) => isPlugdError(e, 'PLUGD_E_NOT_FOUND'));
  });
});

describe('calls', () => {
  it('carries a plugin error with its code and cause as PLUGD_E_PLUGIN_ERROR', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    const client = await sup.get('greeter', 'Greeter');
    type Chained = Error & { code: string; cause: Error & { code: string; cause: Error } };
    const error = (await client.call('Greeter.Fail', { message: 'no greeting today' }).catch((e: unknown) => e)) as Chained;
    expect(error).toMatchObject({ code: 'PLUGD_E_PLUGIN_ERROR' });
    expect(error.message).toContain('no greeting today');
    expect(error.cause).toMatchObject({ code: 'EGREET', message: 'no greeting today' });
    expect(error.cause.cause).toMatchObject({ message: 'root cause' });
    // The plugin keeps running after a method error.
    expect(sup.inspect('greeter').state).toBe('running');
  });

  it('rejects an unknown method with PLUGD_E_METHOD', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    const client = await sup.get('greeter', 'Greeter');
    await expect(client.call('Greeter.Nope')).rejects.toMatchObject({ code: 'PLUGD_E_METHOD' });
  });

  it('rejects arguments and results that cannot cross threads, and keeps running', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    const client = await sup.get('greeter', 'Greeter');
    await expect(client.call('Greeter.Hello', { name: () => 'x' })).rejects.toMatchObject({ code: 'PLUGD_E_CALL' });
    await expect(client.call('')).rejects.toMatchObject({ code: 'PLUGD_E_CALL' });
    await expect(client.call('Greeter.Unsendable')).rejects.toMatchObject({
      code: 'PLUGD_E_PLUGIN_ERROR',
      message: expect.stringContaining('cannot be sent'),
    });
    await expect(client.call('Greeter.Hello', { name: 'after' })).resolves.toMatchObject({ greeting: 'hello after' });
  });

  it('answers many concurrent calls, each with its own result', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    const client = await sup.get('greeter', 'Greeter');
    const names = Array.from({ length: 200 }, (_, i) => `n${i}`);
    const answers = await Promise.all(names.map((name) => client.call('Greeter.Hello', { name })));
    expect(answers.map((a) => (a as { greeting: string }).greeting)).toEqual(names.map((n) => `hello ${n}`));
  });

  it('times out a slow call with PLUGD_E_CALL_TIMEOUT and keeps the plugin running', async () => {
    const sup = await supervisor({ callTimeoutMs: 100 });
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    const client = await sup.get('greeter', 'Greeter');
    await expect(client.call('Greeter.Slow', { ms: 5_000 })).rejects.toMatchObject({ code: 'PLUGD_E_CALL_TIMEOUT' });
    await expect(client.call('Greeter.Slow', { ms: 10 }, { timeoutMs: 2_000 })).resolves.toEqual({ waited: 10 });
  });
});

describe('restore at open', () => {
  it('opens before the restore ends; restored() reports what ran, and an enable of a restored plugin resolves', async () => {
    const first = await supervisor();
    await first.install(await bundle('greeter'));
    await first.install(await bundle('greeter', { name: 'idle' }));
    await first.enable('greeter');
    await first.close();

    const second = await createSupervisor({ root: first.root, logger: silent });
    onCleanup(() => second.close());
    // Open resolves with the restore started, not done: the plugin is on its way.
    expect(['enabled', 'activating']).toContain(second.inspect('greeter').state);
    await expect(second.restored()).resolves.toEqual({ running: ['greeter'], failed: [] });
    expect(second.inspect('greeter').state).toBe('running');
    expect(second.inspect('idle').state).toBe('installed');
    // A host's "install if missing, then enable" on its second start: the enable resolves at once.
    await expect(second.enable('greeter')).resolves.toBeUndefined();
  });

  it('restores nothing, and reports so, with restore: false', async () => {
    const first = await supervisor();
    await first.install(await bundle('greeter'));
    await first.enable('greeter');
    await first.close();
    const second = await supervisor({ root: first.root, restore: false });
    await expect(second.restored()).resolves.toEqual({ running: [], failed: [] });
    expect(second.inspect('greeter')).toMatchObject({ state: 'installed', enabled: true });
  });
});
