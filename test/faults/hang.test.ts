import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { bundle, nextState, supervisor } from '../helpers.js';

describe('a plugin that blocks its event loop while running', () => {
  it('is detected by the watchdog, terminated and restarted; its pending calls reject with PLUGD_E_PLUGIN_HUNG', async () => {
    const sup = await supervisor({ watchdogMs: 200 });
    await sup.install(await bundle('busy-loop'));
    await sup.enable('busy-loop');
    const client = await sup.get('busy-loop', 'Spin');
    await expect(client.call('Spin.Ping')).resolves.toEqual({ pong: true, instance: 1 });

    const restarted = nextState(sup, 'busy-loop', 'running');
    const hungAt = performance.now();
    const spin = client.call('Spin.Forever');
    const queued = client.call('Spin.Ping'); // waits behind the loop: must not hang either
    await expect(spin).rejects.toMatchObject({ code: 'PLUGD_E_PLUGIN_HUNG' });
    await expect(queued).rejects.toMatchObject({ code: 'PLUGD_E_PLUGIN_HUNG' });
    console.log(`hang detected after ${Math.round(performance.now() - hungAt)} ms (watchdogMs 200)`);

    await restarted;
    const info = sup.inspect('busy-loop');
    expect(info).toMatchObject({ state: 'running', restarts: 1 });
    expect(info.lastError?.code).toBe('PLUGD_E_PLUGIN_HUNG');
    await expect(client.call('Spin.Ping')).resolves.toEqual({ pong: true, instance: 2 });
  });

  it('keeps the host main thread responsive while plugins hang and flood (event-loop delay printed)', async () => {
    const sup = await supervisor({ watchdogMs: 250, logs: { ratePerSec: 500, burst: 500 } });
    await sup.install(await bundle('busy-loop'));
    await sup.install(await bundle('flood', { restart: 'no' }));
    await sup.set('flood', ['FLOOD_CONTINUOUS=1']);
    await Promise.all([sup.enable('busy-loop'), sup.enable('flood')]);
    // Measure only once the flood is on: plugin threads run niced, so on a loaded machine the
    // first lines can take a while.
    await expect.poll(() => sup.inspect('flood').logs.dropped, { timeout: 10_000 }).toBeGreaterThan(0);

    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const spinner = await sup.get('busy-loop', 'Spin');
    const hangs: Promise<unknown>[] = [];
    for (let round = 0; round < 3; round++) {
      const restarted = nextState(sup, 'busy-loop', 'running');
      hangs.push(spinner.call('Spin.Forever').catch((e: { code: string }) => e.code));
      await restarted;
    }
    delay.disable();
    expect(await Promise.all(hangs)).toEqual(['PLUGD_E_PLUGIN_HUNG', 'PLUGD_E_PLUGIN_HUNG', 'PLUGD_E_PLUGIN_HUNG']);
    expect(delay.count).toBeGreaterThan(0);
    // Each sample is the time between two 5 ms ticks: the delay is what exceeds the 5 ms.
    const ms = (ns: number) => Math.max(0, ns / 1e6 - 5).toFixed(1);
    console.log(
      `host event-loop delay (beyond a 5 ms timer) during 3 hangs + a flood: p50 ${ms(delay.percentile(50))} ms, p99 ` +
        `${ms(delay.percentile(99))} ms, max ${ms(delay.max)} ms`,
    );
  });
});
