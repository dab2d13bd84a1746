import { describe, expect, it } from 'vitest';
import { bundle, nextState, supervisor } from '../helpers.js';

describe('the warm pool', () => {
  it('runs a plugin in a standby thread with the same env isolation, logs and calls as a cold start', async () => {
    process.env.PLUGD_TEST_SECRET = 'must-not-leak';
    const sup = await supervisor({ warmWorkers: 2 });
    await sup.warmed();
    await sup.install(await bundle('greeter', { args: ['--flag'] }));
    await sup.set('greeter', ['GREETING=warm']);
    await sup.enable('greeter');
    const client = await sup.get('greeter', 'Greeter');
    await expect(client.call('Greeter.Env')).resolves.toEqual({ GREETING: 'warm', FIXED: 'fixed' });
    await expect(client.call('Greeter.Argv')).resolves.toEqual(['--flag']);
    await client.call('Greeter.Print', { lines: ['from a warm thread'] });
    await expect.poll(async () => (await sup.logs('greeter')).map((l) => l.msg)).toContain('from a warm thread');
  });

  it('refills in the background after a thread is taken', async () => {
    const sup = await supervisor({ warmWorkers: 1 });
    await sup.warmed();
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    await sup.warmed();
    await sup.install(await bundle('crasher'));
    await sup.enable('crasher');
    await expect((await sup.get('crasher', 'Crash')).call('Crash.Ok')).resolves.toBe('ok');
  });

  it('lets the watchdog kill a warm-started plugin and restarts it', async () => {
    const sup = await supervisor({ warmWorkers: 2, watchdogMs: 150 });
    await sup.warmed();
    await sup.install(await bundle('busy-loop'));
    await sup.enable('busy-loop');
    const restarted = nextState(sup, 'busy-loop', 'running');
    await expect((await sup.get('busy-loop', 'Spin')).call('Spin.Forever')).rejects.toMatchObject({ code: 'PLUGD_E_PLUGIN_HUNG' });
    await restarted;
    expect(sup.inspect('busy-loop')).toMatchObject({ state: 'running', restarts: 1 });
  });
});

describe.runIf(process.platform === 'linux')('plugin thread priority', () => {
  it('runs plugin threads at pluginNice (default 10) so the host thread comes first', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    await expect((await sup.get('greeter', 'Greeter')).call('Greeter.Nice')).resolves.toBe(10);
  });

  it('honours pluginNice: 0 and refuses a value out of range', async () => {
    const sup = await supervisor({ pluginNice: 0 });
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    await expect((await sup.get('greeter', 'Greeter')).call('Greeter.Nice')).resolves.toBe(0);
    await expect(supervisor({ pluginNice: 40 })).rejects.toMatchObject({ code: 'PLUGD_E_OPTION', details: { option: 'pluginNice' } });
  });
});
