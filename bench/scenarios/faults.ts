// 100 running plugins while K of them busy-loop and one floods its log: the host's event-loop
// delay, the latency of inspect()/list() and of calls to a healthy plugin, and the time from a
// hang to its detection and to the restarted instance running.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { StateEvent } from '../../src/index.js';
import { ratio, round, summarize } from '../report.js';
import { enableAll, FLOOD_BUNDLE, sleep, supervisorWithPlugins } from './plugd-fixtures.js';

const RESOLUTION_MS = 5;

export interface FaultResult {
  hung: number;
  loopDelayMs: { p50: number; p99: number; max: number };
  loopDelayP99VsNone: number;
  inspectUs: { p50: number; p99: number };
  listUs: { p50: number; p99: number };
  healthyCallMs: { p50: number; p99: number };
  detectMs: { p50: number; max: number } | null;
  restartedMs: { p50: number; max: number } | null;
  allDetectedWithin2xWatchdog: boolean | null;
  /** Healthy plugins the watchdog killed anyway (false positives), and failed healthy calls. */
  healthyKilled: number;
  /** The error codes of those kills. */
  healthyKilledCodes: string[];
  healthyCallsFailed: number;
}

export async function faults(ks: number[], windowMs: number, watchdogMs: number, plugins = 100): Promise<FaultResult[]> {
  const bench = await supervisorWithPlugins(plugins, { watchdogMs });
  const { sup, names } = bench;
  await sup.install(FLOOD_BUNDLE);
  await enableAll(sup, [...names, 'flood']);
  const healthyName = names.at(-1)!;
  const healthy = await sup.get(healthyName, 'Bench');
  const results: FaultResult[] = [];
  try {
    for (const k of ks) {
      const victims = names.slice(0, k);
      const hungAt = new Map<string, number>();
      const detected = new Map<string, number>();
      const restarted = new Map<string, number>();
      let healthyKilled = 0;
      const healthyKilledCodes: string[] = [];
      let healthyCallsFailed = 0;
      const onState = (e: StateEvent) => {
        const t0 = hungAt.get(e.name);
        if (t0 === undefined) {
          if (e.to === 'restarting' && e.name !== 'flood') {
            healthyKilled += 1;
            healthyKilledCodes.push(`${e.name}:${e.error?.code ?? '?'}`);
          }
          return;
        }
        if (e.to === 'restarting' && e.error?.code === 'PLUGD_E_PLUGIN_HUNG') detected.set(e.name, e.at - t0);
        if (e.to === 'running' && detected.has(e.name)) restarted.set(e.name, e.at - t0);
      };
      sup.on('state', onState);
      const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      const inspectUs: number[] = [];
      const listUs: number[] = [];
      const callMs: number[] = [];
      delay.enable();
      for (const name of victims) {
        hungAt.set(name, Date.now());
        void sup
          .get(name, 'Bench')
          .then((c) => c.call('Bench.Spin'))
          .catch(() => undefined);
      }
      const start = performance.now();
      const giveUpAt = start + windowMs + 20_000;
      while ((performance.now() - start < windowMs || restarted.size < k) && performance.now() < giveUpAt) {
        let t = performance.now();
        sup.inspect(healthyName);
        inspectUs.push((performance.now() - t) * 1000);
        t = performance.now();
        sup.list();
        listUs.push((performance.now() - t) * 1000);
        t = performance.now();
        try {
          await healthy.call('Bench.Echo', { t });
          callMs.push(performance.now() - t);
        } catch {
          healthyCallsFailed += 1;
        }
        await sleep(5);
      }
      delay.disable();
      sup.off('state', onState);
      const beyond = (ns: number) => round(Math.max(0, ns / 1e6 - RESOLUTION_MS), 2);
      const detect = summarize([...detected.values()]);
      const back = summarize([...restarted.values()]);
      const row: FaultResult = {
        hung: k,
        loopDelayMs: { p50: beyond(delay.percentile(50)), p99: beyond(delay.percentile(99)), max: beyond(delay.max) },
        loopDelayP99VsNone: NaN,
        inspectUs: { p50: round(summarize(inspectUs).p50, 1), p99: round(summarize(inspectUs).p99, 1) },
        listUs: { p50: round(summarize(listUs).p50, 1), p99: round(summarize(listUs).p99, 1) },
        healthyCallMs: { p50: round(summarize(callMs).p50, 3), p99: round(summarize(callMs).p99, 3) },
        detectMs: k > 0 ? { p50: detect.p50, max: detect.max } : null,
        restartedMs: k > 0 ? { p50: back.p50, max: back.max } : null,
        allDetectedWithin2xWatchdog: k > 0 ? detected.size === k && detect.max <= 2 * watchdogMs : null,
        healthyKilled,
        healthyKilledCodes,
        healthyCallsFailed,
      };
      const none = results.find((r) => r.hung === 0) ?? row;
      // The ratio needs a floor: a p99 of 0.0 ms beyond the timer would make any delay infinite.
      row.loopDelayP99VsNone = ratio(Math.max(row.loopDelayMs.p99, 0.5), Math.max(none.loopDelayMs.p99, 0.5));
      results.push(row);
      console.error(`  faults K=${k}: loop p99 ${row.loopDelayMs.p99} ms, detected ${detected.size}/${k}`);
      await sleep(300);
    }
  } finally {
    await bench.dispose();
  }
  return results;
}
