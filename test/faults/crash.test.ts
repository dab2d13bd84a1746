import { describe, expect, it } from 'vitest';
import { bundle, nextState, recordStates, supervisor } from '../helpers.js';

describe('a plugin that crashes', () => {
  it('turns an uncaught error into an instance exit, rejects the pending call and keeps the error for inspect', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('crasher', { restart: 'no' }));
    await sup.enable('crasher');
    const client = await sup.get('crasher', 'Crash');
    const disabled = nextState(sup, 'crasher', 'disabled');
    await expect(client.call('Crash.Throw')).rejects.toMatchObject({
      code: 'PLUGD_E_PLUGIN_EXITED',
      message: expect.stringContaining('uncaught on purpose'),
    });
    await disabled;
    expect(sup.inspect('crasher').lastError).toMatchObject({
      code: 'PLUGD_E_PLUGIN_EXITED',
      message: expect.stringContaining('uncaught on purpose'),
    });
  });

  it('treats process.exit(3) in the worker as an exit with its code, not a host exit', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('crasher', { restart: 'no' }));
    await sup.enable('crasher');
    const client = await sup.get('crasher', 'Crash');
    await expect(client.call('Crash.Exit', { code: 3 })).rejects.toMatchObject({
      code: 'PLUGD_E_PLUGIN_EXITED',
      message: expect.stringContaining('code 3'),
    });
  });

  it('restarts an on-failure:2 plugin twice, at once then after 200 ms of backoff (real time), then gives up', async () => {
    const sup = await supervisor();
    const seen = recordStates(sup);
    await sup.install(await bundle('crasher'));
    await sup.enable('crasher');
    const client = await sup.get('crasher', 'Crash');
    const disabled = nextState(sup, 'crasher', 'disabled');
    for (let i = 0; i < 3; i++) {
      const next = nextState(sup, 'crasher', 'running');
      await client.call('Crash.Exit', { code: 1 }).catch(() => undefined);
      if (i < 2) await next;
    }
    await disabled;
    const info = sup.inspect('crasher');
    expect(info).toMatchObject({ state: 'disabled', restarts: 2, gaveUp: expect.stringContaining('on-failure:2') });
    expect(info.lastError?.code).toBe('PLUGD_E_PLUGIN_EXITED');
    // The gap between entering restarting and activating again is the backoff.
    const waits: number[] = [];
    for (let i = 0; i < seen.length; i++) {
      if (seen[i]!.to === 'restarting' && seen[i + 1]?.to === 'activating') waits.push(seen[i + 1]!.at - seen[i]!.at);
    }
    expect(waits).toHaveLength(2);
    // Failures carry their error on the state event; the give-up does too.
    expect(seen.filter((e) => e.to === 'restarting').map((e) => e.error?.code)).toEqual(Array(3).fill('PLUGD_E_PLUGIN_EXITED'));
    expect(seen.at(-1)).toMatchObject({ to: 'disabled', error: { code: 'PLUGD_E_PLUGIN_EXITED' } });
    // The first restart of the series at once, the second after the backoff.
    expect(waits[1]).toBeGreaterThanOrEqual(195);
  });

  it('does not restart an on-failure plugin that exits cleanly', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('crasher'));
    await sup.enable('crasher');
    const disabled = nextState(sup, 'crasher', 'disabled');
    await (await sup.get('crasher', 'Crash')).call('Crash.Exit', { code: 0 }).catch(() => undefined);
    await disabled;
    expect(sup.inspect('crasher')).toMatchObject({ restarts: 0, gaveUp: expect.stringContaining('clean exit') });
  });
});

describe('a plugin that runs out of memory', () => {
  it('is an instance exit with PLUGD_E_PLUGIN_OOM, never a host crash', async () => {
    // A heap filling up runs its event loop dry: on a loaded machine the watchdog could call it
    // hung before V8 calls it out of memory. Only the OOM path is under test here.
    const sup = await supervisor({ memoryLimitMb: 32, watchdogMs: 60_000 });
    await sup.install(await bundle('oom'));
    await sup.install(await bundle('greeter'));
    await sup.enable('oom');
    await sup.enable('greeter');
    const memory = await sup.get('oom', 'Memory');
    const disabled = nextState(sup, 'oom', 'disabled');
    await expect(memory.call('Memory.Grow')).rejects.toMatchObject({ code: 'PLUGD_E_PLUGIN_OOM' });
    await disabled;
    expect(sup.inspect('oom').lastError?.code).toBe('PLUGD_E_PLUGIN_OOM');
    const greeter = await sup.get('greeter', 'Greeter');
    await expect(greeter.call('Greeter.Hello', { name: 'after oom' })).resolves.toMatchObject({ greeting: 'hello after oom' });
  });
});
