// N plugins enabled at once from a fresh supervisor, against N bare workers that load the same
// module and answer one handshake: total time, activations/s, latency, RSS per running plugin.
import { rawColdActivations } from '../raw/raw-baseline.js';
import { median, ratio, round, settledRss, summarize } from '../report.js';
import { enableAll, NOOP_ENTRY, sleep, supervisorWithPlugins } from './plugd-fixtures.js';

interface Run {
  totalMs: number;
  latencies: number[];
  rssPerPluginMb: number;
}

async function rawRun(n: number): Promise<Run> {
  const before = await settledRss();
  const { totalMs, latencies, workers } = await rawColdActivations(n, NOOP_ENTRY);
  const after = await settledRss();
  await Promise.all(workers.map((w) => w.terminate()));
  return { totalMs, latencies, rssPerPluginMb: (after - before) / n / 2 ** 20 };
}

async function plugdRun(n: number, options: { warmWorkers?: number } = {}): Promise<Run> {
  const bench = await supervisorWithPlugins(n, options);
  await bench.sup.warmed();
  await sleep(700); // the install task pool's idle threads end before the baseline is taken
  const before = await settledRss();
  const { totalMs, latencies } = await enableAll(bench.sup, bench.names);
  const after = await settledRss();
  await bench.dispose();
  return { totalMs, latencies, rssPerPluginMb: (after - before) / n / 2 ** 20 };
}

export interface ActivationResult {
  n: number;
  raw: { totalMs: number; perSec: number; p50: number; p99: number; rssPerPluginMb: number };
  plugd: { totalMs: number; perSec: number; p50: number; p99: number; rssPerPluginMb: number };
  timeRatio: number;
  rssRatio: number;
}

function aggregate(runs: Run[], n: number) {
  const totalMs = median(runs.map((r) => r.totalMs));
  const latency = summarize(runs.flatMap((r) => r.latencies));
  return {
    totalMs: round(totalMs, 1),
    perSec: round((n / totalMs) * 1000, 0),
    p50: round(latency.p50, 1),
    p99: round(latency.p99, 1),
    rssPerPluginMb: round(median(runs.map((r) => r.rssPerPluginMb)), 2),
  };
}

/**
 * Cold activations (or warm ones with `warm`), each N run `reps` times, raw and plugd
 * alternating. `rawOf` reuses the raw figures already measured in this run for that N.
 */
export async function activations(ns: number[], reps: number, warm = false, rawOf: ActivationResult[] = []): Promise<ActivationResult[]> {
  const results: ActivationResult[] = [];
  for (const n of ns) {
    const known = rawOf.find((r) => r.n === n)?.raw;
    const raws: Run[] = [];
    const plugds: Run[] = [];
    for (let rep = 0; rep < reps; rep++) {
      // Alternate which side goes first, so neither always meets a warmer machine.
      if (rep % 2 === 0 && !known) raws.push(await rawRun(n));
      plugds.push(await plugdRun(n, warm ? { warmWorkers: n } : {}));
      if (rep % 2 === 1 && !known) raws.push(await rawRun(n));
    }
    const raw = known ?? aggregate(raws, n);
    const plugd = aggregate(plugds, n);
    results.push({
      n,
      raw,
      plugd,
      timeRatio: ratio(plugd.totalMs, raw.totalMs),
      rssRatio: ratio(plugd.rssPerPluginMb, raw.rssPerPluginMb),
    });
    console.error(`  ${warm ? 'warm' : 'cold'} N=${n}: raw ${raw.totalMs} ms, plugd ${plugd.totalMs} ms`);
  }
  return results;
}
