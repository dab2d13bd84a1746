import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, nextState, recordStates, supervisor, tempDir } from '../helpers.js';

describe('lazy activation', () => {
  it('enables a lazy plugin idle, without an instance, and its first call activates it and answers', async () => {
    const sup = await supervisor();
    const seen = recordStates(sup);
    await sup.install(await bundle('lazy-greeter'));
    await sup.enable('lazy-greeter');
    expect(sup.inspect('lazy-greeter')).toMatchObject({ state: 'enabled', idle: true, enabled: true, instance: null });
    // A handle registration does not activate it.
    const handled: string[] = [];
    sup.handle('Greeter', (name) => handled.push(name));
    expect(sup.inspect('lazy-greeter')).toMatchObject({ state: 'enabled', idle: true });

    const client = await sup.get('lazy-greeter', 'Greeter');
    await expect(client.call('Greeter.Hello', { name: 'Ada' })).resolves.toMatchObject({ greeting: 'hello Ada', calls: 1 });
    expect(sup.inspect('lazy-greeter')).toMatchObject({ state: 'running', idle: false, implements: ['Greeter'] });
    expect(handled).toEqual(['lazy-greeter']);
    expect(seen.map((e) => `${e.from}->${e.to}`)).toEqual([
      'null->installed',
      'installed->enabled',
      'enabled->activating',
      'activating->running',
    ]);
  });

  it('activates once for concurrent first calls, also through clients from find()', async () => {
    const sup = await supervisor();
    const seen = recordStates(sup);
    await sup.install(await bundle('lazy-greeter'));
    await sup.enable('lazy-greeter');
    const [found] = sup.find('Greeter');
    expect(found?.name).toBe('lazy-greeter');
    const client = await sup.get('lazy-greeter', 'Greeter');
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => client.call<{ instance: number }>('Greeter.Hello', { name: `n${i}` })),
      found!.call<{ instance: number }>('Greeter.Hello', { name: 'found' }),
    ]);
    expect(new Set(answers.map((a) => a.instance)).size).toBe(1);
    expect(seen.filter((e) => e.to === 'activating')).toHaveLength(1);
  });

  it('stops after idleTimeoutMs without calls, back to enabled (idle), and the next call activates it again', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('lazy-greeter', { idleTimeoutMs: 50 }));
    await sup.enable('lazy-greeter');
    const client = await sup.get('lazy-greeter', 'Greeter');
    const first = await client.call<{ instance: number }>('Greeter.Hello', { name: 'a' });
    const back = nextState(sup, 'lazy-greeter', 'enabled');
    // A call longer than the idle timeout is not cut short.
    await expect(client.call('Greeter.Slow', { ms: 150 })).resolves.toEqual({ waited: 150 });
    const idled = await back;
    expect(idled.from).toBe('stopping');
    expect(sup.inspect('lazy-greeter')).toMatchObject({ state: 'enabled', idle: true, instance: null, restarts: 0 });
    const second = await client.call<{ instance: number; calls: number }>('Greeter.Hello', { name: 'b' });
    expect(second.instance).toBeGreaterThan(first.instance);
    expect(second.calls).toBe(1);
    expect(sup.inspect('lazy-greeter').state).toBe('running');
  });

  it('rejects the call that triggers a failed activation with its error, and the restart policy applies', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('lazy-failing'));
    await sup.enable('lazy-failing');
    expect(sup.inspect('lazy-failing')).toMatchObject({ state: 'enabled', idle: true });
    const client = await sup.get('lazy-failing', 'Greeter');
    const gaveUp = nextState(sup, 'lazy-failing', 'disabled');
    const error = await client.call('Greeter.Hello', {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PLUGD_E_ACTIVATION' });
    expect((error as Error).message).toContain('lazy activation refused');
    // on-failure:1 restarts it once (eagerly, as any plugin), then gives up.
    const last = await gaveUp;
    expect(last.error).toMatchObject({ code: 'PLUGD_E_ACTIVATION' });
    expect(sup.inspect('lazy-failing')).toMatchObject({ state: 'disabled', restarts: 1 });
    expect(sup.inspect('lazy-failing').gaveUp).not.toBeNull();
    await expect(client.call('Greeter.Hello', {})).rejects.toMatchObject({ code: 'PLUGD_E_NOT_RUNNING' });
  });

  it('disables an idle lazy plugin at once, and a call then rejects with PLUGD_E_NOT_RUNNING', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('lazy-greeter'));
    await sup.enable('lazy-greeter');
    await sup.disable('lazy-greeter');
    expect(sup.inspect('lazy-greeter')).toMatchObject({ state: 'disabled', idle: false, enabled: false });
    const client = await sup.get('lazy-greeter', 'Greeter');
    await expect(client.call('Greeter.Hello', {})).rejects.toMatchObject({ code: 'PLUGD_E_NOT_RUNNING' });
    expect(sup.find('Greeter')).toEqual([]);
  });

  it('restores an enabled lazy plugin idle at the next open', async () => {
    const root = path.join(await tempDir(), 'store');
    const first = await supervisor({ root });
    await first.install(await bundle('lazy-greeter'));
    await first.enable('lazy-greeter');
    await first.close();
    const sup = await supervisor({ root });
    expect((await sup.restored()).running).toEqual(['lazy-greeter']);
    expect(sup.inspect('lazy-greeter')).toMatchObject({ state: 'enabled', idle: true });
    await expect((await sup.get('lazy-greeter', 'Greeter')).call('Greeter.Hello', { name: 'x' })).resolves.toMatchObject({
      greeting: 'hello x',
    });
  });

  it('activates a lazy plugin that an enabled plugin requires, and keeps it from idling until that one is disabled', async () => {
    const sup = await supervisor();
    const seen = recordStates(sup);
    await sup.install(await bundle('lazy-greeter', { idleTimeoutMs: 50 }));
    await sup.install(await bundle('greeter', { name: 'dependent', requires: ['lazy-greeter'] }));
    await sup.enable('dependent');
    expect(sup.inspect('dependent').state).toBe('running');
    expect(sup.inspect('lazy-greeter')).toMatchObject({ state: 'running', idle: false });
    // Three idle timeouts pass during this call: the required plugin is not stopped meanwhile.
    await (await sup.get('dependent', 'Greeter')).call('Greeter.Slow', { ms: 150 });
    expect(seen.filter((e) => e.name === 'lazy-greeter' && e.to === 'stopping')).toEqual([]);
    const idled = nextState(sup, 'lazy-greeter', 'enabled');
    await sup.disable('dependent');
    await idled;
    expect(sup.inspect('lazy-greeter')).toMatchObject({ state: 'enabled', idle: true });
    expect(seen.filter((e) => e.name === 'dependent' && e.to === 'stopping')).toHaveLength(1);
  });

  it('rejects a bad activation or idleTimeoutMs with PLUGD_E_MANIFEST', async () => {
    const sup = await supervisor();
    await expect(sup.install(await bundle('lazy-greeter', { activation: 'sometimes' }))).rejects.toMatchObject({
      code: 'PLUGD_E_MANIFEST',
      details: { field: 'activation' },
    });
    await expect(sup.install(await bundle('lazy-greeter', { idleTimeoutMs: -1 }))).rejects.toMatchObject({
      code: 'PLUGD_E_MANIFEST',
      details: { field: 'idleTimeoutMs' },
    });
    await expect(sup.install(await bundle('greeter', { idleTimeoutMs: 100 }))).rejects.toMatchObject({
      code: 'PLUGD_E_MANIFEST',
      details: { field: 'idleTimeoutMs' },
    });
  });
});
