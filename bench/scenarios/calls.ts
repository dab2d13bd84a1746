// Calls to a running plugin through client.call, against raw postMessage round trips to a bare
// worker running the same module: sequential latency and concurrent throughput.
import { rawCaller, rawChannelCaller } from '../raw/raw-baseline.js';
import { ratio, round, summarize } from '../report.js';
import { NOOP_ENTRY, supervisorWithPlugins } from './plugd-fixtures.js';

type Call = (i: number) => Promise<unknown>;

async function measure(call: Call, count: number, concurrency: number) {
  for (let i = 0; i < 500; i++) await call(i); // warm-up: JIT on both sides
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await call(i);
    latencies.push(performance.now() - t);
  }
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await call(next++);
    }),
  );
  const perSec = (count / (performance.now() - t0)) * 1000;
  const latency = summarize(latencies);
  return { perSec: round(perSec, 0), p50Us: round(latency.p50 * 1000, 1), p99Us: round(latency.p99 * 1000, 1) };
}

export interface CallsResult {
  count: number;
  concurrency: number;
  /** The baseline: postMessage round trips over the worker's own port. */
  raw: { perSec: number; p50Us: number; p99Us: number };
  /** A stricter floor: a dedicated MessageChannel with array messages, as plugd's call channel. */
  rawChannel: { perSec: number; p50Us: number; p99Us: number };
  plugd: { perSec: number; p50Us: number; p99Us: number };
  throughputRatio: number;
  throughputRatioVsChannel: number;
}

export async function calls(count: number, concurrency = 64): Promise<CallsResult> {
  const raw = await rawCaller(NOOP_ENTRY);
  const rawResult = await measure((i) => raw.call('Bench.Echo', { i }), count, concurrency);
  await raw.close();
  const channel = await rawChannelCaller(NOOP_ENTRY);
  const channelResult = await measure((i) => channel.call('Bench.Echo', { i }), count, concurrency);
  await channel.close();
  const bench = await supervisorWithPlugins(1);
  await bench.sup.enable(bench.names[0]!);
  const client = await bench.sup.get(bench.names[0]!, 'Bench');
  const plugdResult = await measure((i) => client.call('Bench.Echo', { i }), count, concurrency);
  await bench.dispose();
  return {
    count,
    concurrency,
    raw: rawResult,
    rawChannel: channelResult,
    plugd: plugdResult,
    throughputRatio: ratio(plugdResult.perSec, rawResult.perSec),
    throughputRatioVsChannel: ratio(plugdResult.perSec, channelResult.perSec),
  };
}
