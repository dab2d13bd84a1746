// One plugin's slow handshake never eats another's activation time: each deadline counts from
// the moment its own attempt starts, not from when it was queued behind others.
import { describe, expect, it } from 'vitest';
import { bundle, supervisor } from '../helpers.js';

describe('process plugin handshakes side by side', () => {
  it('activates a healthy process plugin in time while three others never open their sockets', async () => {
    const sup = await supervisor({ activationTimeoutMs: 3_000 });
    const silent = ['nosocket-a', 'nosocket-b', 'nosocket-c'];
    for (const name of silent) await sup.install(await bundle('proc-nosocket', { name }));
    await sup.install(await bundle('proc-slow-activate')); // answers its handshake in 200 ms

    // All at once, the healthy one last, so that its handshake would be the one left waiting.
    const failures = silent.map((name) =>
      sup.enable(name).then(
        () => null,
        (e: unknown) => e,
      ),
    );
    await sup.enable('proc-slow-activate');
    expect(sup.inspect('proc-slow-activate')).toMatchObject({ state: 'running', lastError: null });
    await expect((await sup.get('proc-slow-activate', 'Echo')).call('Echo.Say', { ok: 1 })).resolves.toEqual({ ok: 1 });

    for (const failure of failures) expect(await failure).toMatchObject({ code: 'PLUGD_E_ACTIVATION_TIMEOUT' });
  });
});
