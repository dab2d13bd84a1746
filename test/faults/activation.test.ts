import { describe, expect, it } from 'vitest';
import { bundle, supervisor } from '../helpers.js';

describe('an activation that never completes', () => {
  it('cuts off an activate() that never returns after activationTimeoutMs', async () => {
    const sup = await supervisor({ activationTimeoutMs: 300 });
    await sup.install(await bundle('hang-activate'));
    await expect(sup.enable('hang-activate')).rejects.toMatchObject({ code: 'PLUGD_E_ACTIVATION_TIMEOUT' });
    const info = sup.inspect('hang-activate');
    expect(info).toMatchObject({ state: 'disabled', enabled: true, instance: null });
    expect(info.lastError?.code).toBe('PLUGD_E_ACTIVATION_TIMEOUT');
    expect(info.gaveUp).toContain('"no"');
  });

  it('terminates an activate() that busy-loops, and the host keeps serving other plugins', async () => {
    // 3 s: the timeout applies to the healthy greeter too, on a machine one core of which the
    // busy plugin keeps (1 s was missed under a load average of 30).
    const sup = await supervisor({ activationTimeoutMs: 3_000 });
    await sup.install(await bundle('busy-activate'));
    await sup.install(await bundle('greeter'));
    const [busy, greeterUp] = await Promise.allSettled([sup.enable('busy-activate'), sup.enable('greeter')]);
    expect(busy).toMatchObject({ status: 'rejected', reason: { code: 'PLUGD_E_ACTIVATION_TIMEOUT' } });
    expect(greeterUp.status).toBe('fulfilled');
    const greeter = await sup.get('greeter', 'Greeter');
    await expect(greeter.call('Greeter.Hello', { name: 'still here' })).resolves.toMatchObject({ greeting: 'hello still here' });
  });

  it('counts a timed-out activation as a failure for the restart policy', async () => {
    const sup = await supervisor({ activationTimeoutMs: 150, restart: { backoff: { initialMs: 10 } } });
    await sup.install(await bundle('hang-activate', { restart: { policy: 'on-failure', maxRetries: 2 } }));
    await expect(sup.enable('hang-activate')).rejects.toMatchObject({ code: 'PLUGD_E_ACTIVATION_TIMEOUT' });
    await new Promise<void>((resolve) =>
      sup.on('state', (e) => {
        if (e.to === 'disabled') resolve();
      }),
    );
    expect(sup.inspect('hang-activate')).toMatchObject({ state: 'disabled', restarts: 2 });
  });

  it('reports a module that throws at import as a failed activation with its message', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('throw-on-import'));
    const error = (await sup.enable('throw-on-import').then(
      () => null,
      (e: unknown) => e,
    )) as Error & { code: string };
    expect(error.code).toBe('PLUGD_E_ACTIVATION');
    expect(error.message).toContain('broken at load time');
    expect(sup.inspect('throw-on-import').lastError?.message).toContain('broken at load time');
  });

  it('fails an activation whose Implements misses a declared capability', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter', { interface: { types: ['Greeter', 'Shouter'] }, restart: 'no' }));
    await expect(sup.enable('greeter')).rejects.toMatchObject({
      code: 'PLUGD_E_ACTIVATION',
      message: expect.stringContaining('lacks [Shouter]'),
    });
  });
});
