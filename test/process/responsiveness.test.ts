import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { bundle, EXAMPLES, supervisor } from '../helpers.js';

describe('20 process plugins starting at once', () => {
  // Spawning a process is synchronous on the main thread (fork and exec): 20 at once show in the
  // delay, which this prints for the bench to bound.
  it('all run, and the host event-loop delay meanwhile is measured and printed', async () => {
    const sup = await supervisor();
    const names = Array.from({ length: 20 }, (_, i) => `volumes-${i}`);
    for (const name of names) await sup.install(await bundle(path.join(EXAMPLES, 'volumes'), { name }));
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const t0 = performance.now();
    await Promise.all(names.map((name) => sup.enable(name)));
    const elapsed = performance.now() - t0;
    delay.disable();
    expect(sup.list().every((p) => p.state === 'running')).toBe(true);
    await expect((await sup.get('volumes-19', 'VolumeDriver')).call('VolumeDriver.List', {})).resolves.toEqual({ Volumes: [] });
    expect(delay.count).toBeGreaterThan(0);
    const ms = (ns: number) => Math.max(0, ns / 1e6 - 5).toFixed(1);
    console.log(
      `20 process plugins up in ${Math.round(elapsed)} ms; host event-loop delay (beyond a 5 ms timer): p50 ` +
        `${ms(delay.percentile(50))} ms, p99 ${ms(delay.percentile(99))} ms, max ${ms(delay.max)} ms`,
    );
  }, 60_000);
});
