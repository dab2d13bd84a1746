// The cost of "isolation": "process" against the default thread, side by side in one run: the
// same noop module, activated N at once (enable() to running) and called (sequential latency,
// concurrent throughput), with each side taking turns going first.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createSupervisor, type Supervisor } from '../../src/index.js';
import { median, ratio, round, summarize } from '../report.js';
import { enableAll, NOOP_BUNDLE } from './plugd-fixtures.js';

export type Isolation = 'thread' | 'process';

interface Side {
  activation: { totalMs: number; p50: number; p99: number };
  calls: { p50Us: number; p99Us: number; perSec: number };
}

export interface IsolationResult {
  n: number;
  reps: number;
  callCount: number;
  concurrency: number;
  thread: Side;
  process: Side;
  /** process / thread, for each figure. */
  ratios: { activationTotal: number; activationP50: number; callP50: number; callsPerSec: number };
}

/** A supervisor with `n` copies of the noop plugin under the given isolation, installed not enabled. */
async function setup(n: number, isolation: Isolation): Promise<{ sup: Supervisor; names: string[]; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugd-bench-iso-'));
  const sup = await createSupervisor({ root: path.join(dir, 'store'), logger: pino({ level: 'silent' }), restore: false });
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `noop-${isolation}-${i}`;
    const bundle = path.join(dir, 'bundles', name);
    await cp(NOOP_BUNDLE, bundle, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(bundle, 'plugin.json'), 'utf8'));
    await writeFile(path.join(bundle, 'plugin.json'), JSON.stringify({ ...manifest, name, isolation }));
    await sup.install(bundle);
    names.push(name);
  }
  return {
    sup,
    names,
    dispose: async () => {
      await sup.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function activation(n: number, isolation: Isolation) {
  const bench = await setup(n, isolation);
  try {
    return await enableAll(bench.sup, bench.names);
  } finally {
    await bench.dispose();
  }
}

async function callLatency(isolation: Isolation, count: number, concurrency: number) {
  const bench = await setup(1, isolation);
  try {
    await bench.sup.enable(bench.names[0]!);
    const client = await bench.sup.get(bench.names[0]!, 'Bench');
    const call = (i: number) => client.call('Bench.Echo', { i });
    for (let i = 0; i < 200; i++) await call(i); // warm-up: JIT on both sides
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
    return { latencies, perSec };
  } finally {
    await bench.dispose();
  }
}

/** Activation of `n` plugins at once and `callCount` calls, thread vs process, `reps` times each. */
export async function isolation(n: number, reps: number, callCount: number, concurrency = 32): Promise<IsolationResult> {
  const runs: Record<Isolation, { totals: number[]; latencies: number[]; callLatencies: number[]; perSec: number[] }> = {
    thread: { totals: [], latencies: [], callLatencies: [], perSec: [] },
    process: { totals: [], latencies: [], callLatencies: [], perSec: [] },
  };
  for (let rep = 0; rep < reps; rep++) {
    // Alternate which side goes first, so neither always meets a warmer machine.
    const order: Isolation[] = rep % 2 === 0 ? ['thread', 'process'] : ['process', 'thread'];
    for (const side of order) {
      const a = await activation(n, side);
      runs[side].totals.push(a.totalMs);
      runs[side].latencies.push(...a.latencies);
      const c = await callLatency(side, callCount, concurrency);
      runs[side].callLatencies.push(...c.latencies);
      runs[side].perSec.push(c.perSec);
    }
    console.error(
      `  isolation rep ${rep + 1}/${reps}: thread ${round(runs.thread.totals.at(-1)!, 1)} ms, process ` +
        `${round(runs.process.totals.at(-1)!, 1)} ms for ${n} activations`,
    );
  }
  const side = (s: Isolation): Side => {
    const act = summarize(runs[s].latencies);
    const call = summarize(runs[s].callLatencies);
    return {
      activation: { totalMs: round(median(runs[s].totals), 1), p50: round(act.p50, 1), p99: round(act.p99, 1) },
      calls: { p50Us: round(call.p50 * 1000, 1), p99Us: round(call.p99 * 1000, 1), perSec: round(median(runs[s].perSec), 0) },
    };
  };
  const thread = side('thread');
  const proc = side('process');
  return {
    n,
    reps,
    callCount,
    concurrency,
    thread,
    process: proc,
    ratios: {
      activationTotal: ratio(proc.activation.totalMs, thread.activation.totalMs),
      activationP50: ratio(proc.activation.p50, thread.activation.p50),
      callP50: ratio(proc.calls.p50Us, thread.calls.p50Us),
      callsPerSec: ratio(proc.calls.perSec, thread.calls.perSec),
    },
  };
}
