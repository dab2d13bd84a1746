import { describe, expect, it } from 'vitest';
import { createSupervisor } from '../../src/index.js';
import { bundle, nextState, supervisor, tempDir } from '../helpers.js';

describe('plugin environment', () => {
  it('gives the worker only its manifest env, the user settings and granted host variables', async () => {
    process.env.PLUGD_TEST_SECRET = 'must-not-leak';
    process.env.PLUGD_TEST_GRANTED = 'granted-value';
    const sup = await supervisor();
    await sup.install(await bundle('greeter', { permissions: { env: ['PLUGD_TEST_GRANTED'] } }), { grantPermissions: true });
    await sup.set('greeter', ['GREETING=bonjour']);
    await sup.enable('greeter');
    const env = await (await sup.get('greeter', 'Greeter')).call('Greeter.Env');
    expect(env).toEqual({ GREETING: 'bonjour', FIXED: 'fixed', PLUGD_TEST_GRANTED: 'granted-value' });
    await expect((await sup.get('greeter', 'Greeter')).call('Greeter.Hello', { name: 'Ada' })).resolves.toMatchObject({
      greeting: 'bonjour Ada',
    });
  });

  it('refuses set() while the plugin runs, and for unknown or unsettable variables', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter'));
    await expect(sup.set('greeter', ['FIXED=x'])).rejects.toMatchObject({
      code: 'PLUGD_E_SETTING',
      message: expect.stringContaining('not settable'),
    });
    await expect(sup.set('greeter', ['NOPE=x'])).rejects.toMatchObject({ code: 'PLUGD_E_SETTING' });
    await expect(sup.set('greeter', ['no-equals'])).rejects.toMatchObject({ code: 'PLUGD_E_SETTING' });
    await sup.enable('greeter');
    await expect(sup.set('greeter', ['GREETING=hi'])).rejects.toMatchObject({ code: 'PLUGD_E_STATE' });
    await sup.disable('greeter');
    await sup.set('greeter', ['GREETING=hi']);
    await sup.enable('greeter');
    await expect((await sup.get('greeter', 'Greeter')).call('Greeter.Hello', { name: 'x' })).resolves.toMatchObject({ greeting: 'hi x' });
  });
});

describe('plugins in use', () => {
  it('refuses disable and remove of an acquired plugin unless forced or released', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    const client = await sup.get('greeter', 'Greeter', { acquire: true });
    expect(sup.inspect('greeter').inUse).toBe(1);
    await expect(sup.disable('greeter')).rejects.toMatchObject({ code: 'PLUGD_E_IN_USE' });
    await expect(sup.remove('greeter')).rejects.toMatchObject({ code: 'PLUGD_E_IN_USE' });
    client.release();
    client.release();
    expect(sup.inspect('greeter').inUse).toBe(0);
    await sup.get('greeter', 'Greeter', { acquire: true });
    await expect(sup.remove('greeter', { force: true })).resolves.toBeUndefined();
  });

  it('refuses to remove a running plugin without force', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    await expect(sup.remove('greeter')).rejects.toMatchObject({ code: 'PLUGD_E_STATE' });
  });
});

describe('handle()', () => {
  it('is called for plugins already running and on every later activation', async () => {
    const sup = await supervisor({ watchdogMs: 150 });
    await sup.install(await bundle('busy-loop'));
    await sup.enable('busy-loop');
    const calls: string[] = [];
    const unregister = sup.handle('Spin', (name, client) => {
      calls.push(`${name}:${client.capability}`);
    });
    await expect.poll(() => calls.length).toBe(1);
    const restarted = nextState(sup, 'busy-loop', 'running');
    await (await sup.get('busy-loop', 'Spin')).call('Spin.Forever').catch(() => undefined);
    await restarted;
    expect(calls).toEqual(['busy-loop:Spin', 'busy-loop:Spin']);
    unregister();
  });
});

describe('options and a closed supervisor', () => {
  it('rejects bad options with PLUGD_E_OPTION naming the option', async () => {
    const root = await tempDir();
    await expect(createSupervisor({ root: '' })).rejects.toMatchObject({ code: 'PLUGD_E_OPTION', details: { option: 'root' } });
    await expect(createSupervisor({ root, watchdogMs: -1 })).rejects.toMatchObject({
      code: 'PLUGD_E_OPTION',
      details: { option: 'watchdogMs' },
    });
    await expect(createSupervisor({ root, logs: { burst: 0 } })).rejects.toMatchObject({
      code: 'PLUGD_E_OPTION',
      details: { option: 'logs.burst' },
    });
  });

  it('rejects calls after close with PLUGD_E_CLOSED, and close is idempotent', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter'));
    await sup.close();
    await sup.close();
    await expect(sup.enable('greeter')).rejects.toMatchObject({ code: 'PLUGD_E_CLOSED' });
  });

  it('rejects an enable() still waiting when the supervisor closes', async () => {
    const sup = await supervisor({ activationTimeoutMs: 5_000 });
    await sup.install(await bundle('hang-activate'));
    const activating = nextState(sup, 'hang-activate', 'activating');
    const outcome = expect(sup.enable('hang-activate')).rejects.toMatchObject({ code: 'PLUGD_E_CLOSED' });
    await activating;
    await sup.close();
    await outcome;
  });
});
