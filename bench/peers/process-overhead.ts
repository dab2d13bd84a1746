// What one process plugin costs beyond the plugin itself:
// - the RSS of plugd's wrapper process against the plugin process's own RSS;
// - the time one start blocks the host's main thread on its way to the wrapper: the synchronous
//   part of ProcessInstance.start (with a spawner thread: handing the request over, and starting
//   that thread on the first start) plus any child_process.spawn / os.setPriority on the main
//   thread (without one: the fork itself), timed by spawn-timing.ts;
// - the host's event-loop delay during a burst of starts, against the same window idle, and the
//   main thread's busy time per start over the burst (event-loop utilization: everything plugd
//   does there for a start, up to the plugin running).
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ProcessInstance } from '../../src/isolation/process-instance.js';
import { round, summarize } from '../report.js';
import { enableAll, sleep } from '../scenarios/plugd-fixtures.js';
import { plugdTree, plugdWithServers } from './plugd-side.js';
import { pssBytes, rssBytes } from './proc.js';
import { timeSpawns } from './spawn-timing.js';

const MB = 2 ** 20;
const RESOLUTION_MS = 1;

export interface ProcsResult {
  burst: number;
  rssMb: { wrapperMean: number; pluginMean: number; wrapperPerPlugin: number; wrapperMin: number; wrapperMax: number };
  /** The same in Pss (shared pages, such as node's own code, split among the processes sharing them): for reference. */
  pssMb: { wrapperMean: number; pluginMean: number };
  /** Main-thread ms per start on its way to the wrapper, synchronous parts only: handoff + fork (paired in order). */
  spawnSyncMs: { p50: number; p99: number; max: number; count: number };
  /** The synchronous part of ProcessInstance.start (the first one starts the spawner thread, if any). */
  handoffSyncMs: { p50: number; p99: number; max: number; first: number; count: number };
  /** child_process.spawn of a wrapper on the main thread (none when a spawner thread forks). */
  forkSyncMs: { p50: number; p99: number; max: number; count: number };
  setPrioritySyncMs: { p50: number; max: number };
  /** The main thread's busy (not idle) time during the burst, per start. */
  mainThreadBusyMsPerStart: number;
  burstTotalMs: number;
  loopDelayMs: { idle: { p50: number; p99: number; max: number }; burst: { p50: number; p99: number; max: number }; p99Ratio: number };
  /** A guard: plugin processes still alive 2 s after close() resolved (should be 0). */
  leftAfterClose: number;
}

function delaySummary(h: ReturnType<typeof monitorEventLoopDelay>) {
  const beyond = (ns: number) => round(Math.max(0, ns / 1e6 - RESOLUTION_MS), 2);
  return { p50: beyond(h.percentile(50)), p99: beyond(h.percentile(99)), max: beyond(h.max) };
}

export async function processOverhead(burst = 20): Promise<ProcsResult> {
  const bench = await plugdWithServers(burst);
  const timing = timeSpawns(ProcessInstance);
  let result: Omit<ProcsResult, 'leftAfterClose'>;
  try {
    const idle = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    idle.enable();
    await sleep(1_000);
    idle.disable();
    const during = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    during.enable();
    const elu = performance.eventLoopUtilization();
    const { totalMs } = await enableAll(bench.sup, bench.names);
    const busy = performance.eventLoopUtilization(elu);
    during.disable();
    timing.restore();
    if (timing.handoffMs.length !== burst)
      throw new Error(`timed ${timing.handoffMs.length} starts for ${burst}: the start hook missed some`);
    if (timing.spawnMs.length !== 0 && timing.spawnMs.length !== burst)
      throw new Error(`timed ${timing.spawnMs.length} wrapper spawns on the main thread for ${burst} starts: the spawn hook missed some`);
    await sleep(1_500); // every plugin done booting
    const { wrappers, plugins } = plugdTree();
    const wrapperRss = wrappers.map(rssBytes);
    const pluginRss = plugins.map(rssBytes);
    const wrapperPss = wrappers.map(pssBytes);
    const pluginPss = plugins.map(pssBytes);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const fork = summarize(timing.spawnMs);
    const handoff = summarize(timing.handoffMs);
    const spawn = summarize(timing.perStartMs);
    const nice = summarize(timing.niceMs);
    const idleDelay = delaySummary(idle);
    const burstDelay = delaySummary(during);
    result = {
      burst,
      rssMb: {
        wrapperMean: round(mean(wrapperRss) / MB, 1),
        pluginMean: round(mean(pluginRss) / MB, 1),
        wrapperPerPlugin: round(mean(wrapperRss) / mean(pluginRss), 2),
        wrapperMin: round(Math.min(...wrapperRss) / MB, 1),
        wrapperMax: round(Math.max(...wrapperRss) / MB, 1),
      },
      pssMb: { wrapperMean: round(mean(wrapperPss) / MB, 1), pluginMean: round(mean(pluginPss) / MB, 1) },
      spawnSyncMs: { p50: round(spawn.p50, 2), p99: round(spawn.p99, 2), max: round(spawn.max, 2), count: spawn.count },
      handoffSyncMs: {
        p50: round(handoff.p50, 3),
        p99: round(handoff.p99, 3),
        max: round(handoff.max, 3),
        first: round(timing.handoffMs[0] ?? Number.NaN, 3),
        count: handoff.count,
      },
      forkSyncMs: {
        p50: round(fork.count ? fork.p50 : 0, 2),
        p99: round(fork.count ? fork.p99 : 0, 2),
        max: round(fork.count ? fork.max : 0, 2),
        count: fork.count,
      },
      setPrioritySyncMs: { p50: round(nice.count ? nice.p50 : 0, 3), max: round(nice.count ? nice.max : 0, 3) },
      mainThreadBusyMsPerStart: round(busy.active / burst, 1),
      burstTotalMs: round(totalMs, 1),
      loopDelayMs: { idle: idleDelay, burst: burstDelay, p99Ratio: round(Math.max(burstDelay.p99, 0.5) / Math.max(idleDelay.p99, 0.5), 2) },
    };
  } catch (e) {
    timing.restore();
    await bench.dispose();
    throw e;
  }
  return { ...result, leftAfterClose: (await bench.dispose()).length };
}
