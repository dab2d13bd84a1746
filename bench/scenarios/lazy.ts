// On-demand activation: N installed lazy plugins (enabled, idle) with `called` of them called,
// against `called` eager plugins enabled and called: host RSS; and a lazy plugin's first call
// against a warm activation (activating → running, a thread from the warm pool) plus a call. Each side runs in a fresh
// Node process, so neither inherits the other's heap.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { createSupervisor, type Supervisor } from '../../src/index.js';
import { ratio, round, settledRss, summarize } from '../report.js';
import { NOOP_BUNDLE } from './plugd-fixtures.js';

type Side = 'lazy' | 'eager';

interface SideResult {
  side: Side;
  installed: number;
  called: number;
  /** Host RSS once the plugins are enabled and `called` of them answered, and its growth since before the supervisor opened. */
  rssMb: number;
  rssAddedMb: number;
  /** Lazy: first call (activation + call). Eager: activating → running from the warm pool, plus a call. */
  latencyMs: { p50: number; p99: number; max: number };
}

export interface LazyResult {
  n: number;
  called: number;
  lazy: SideResult;
  eager: SideResult;
  /** Host RSS, lazy / eager (the goal: ≤ 1.1). */
  rssRatio: number;
  /** RSS added by plugd and its plugins, lazy / eager (stricter: the host's own baseline left out). */
  rssAddedRatio: number;
  /** p50 of a lazy first call / p50 of a warm enable plus a call (the goal: ≤ 1.2). */
  latencyRatio: number;
}

async function installCopies(sup: Supervisor, dir: string, count: number, lazy: boolean): Promise<string[]> {
  const manifest = JSON.parse(await readFile(path.join(NOOP_BUNDLE, 'plugin.json'), 'utf8'));
  const names = Array.from({ length: count }, (_, i) => `${lazy ? 'lazy' : 'eager'}-${i}`);
  for (let i = 0; i < names.length; i += 16) {
    await Promise.all(
      names.slice(i, i + 16).map(async (name) => {
        const bundle = path.join(dir, 'bundles', name);
        await cp(NOOP_BUNDLE, bundle, { recursive: true });
        await writeFile(path.join(bundle, 'plugin.json'), JSON.stringify({ ...manifest, name, ...(lazy ? { activation: 'lazy' } : {}) }));
        await sup.install(bundle);
      }),
    );
  }
  return names;
}

/** One side, in this process: what the child process runs. */
async function runSide(side: Side, n: number, called: number): Promise<SideResult> {
  const lazy = side === 'lazy';
  const installed = lazy ? n : called;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugd-bench-lazy-'));
  const logger = pino({ level: 'silent' });
  try {
    // RSS: no warm pool; every installed plugin enabled, `called` of them called once.
    const before = await settledRss();
    const sup = await createSupervisor({ root: path.join(dir, 'rss'), logger, restore: false });
    const names = await installCopies(sup, dir, installed, lazy);
    await Promise.all(names.map((name) => sup.enable(name)));
    await Promise.all(names.slice(0, called).map(async (name) => (await sup.get(name, 'Bench')).call('Bench.Echo', { x: 1 })));
    await new Promise((resolve) => setTimeout(resolve, 700)); // the install task pool's idle threads end
    const after = await settledRss();
    await sup.close();

    // Latency, one plugin at a time, with a warm pool of `called` threads filled first.
    const warm = await createSupervisor({ root: path.join(dir, 'latency'), logger, restore: false, warmWorkers: called });
    const timed = await installCopies(warm, path.join(dir, 'w'), called, lazy);
    if (lazy) await Promise.all(timed.map((name) => warm.enable(name)));
    await warm.warmed();
    const latencies: number[] = [];
    // An eager activation is timed from `activating` to `running` (enable() also writes the
    // enabled flag to disk first, which a lazy plugin's first call does not), then its call.
    const activatingAt = new Map<string, number>();
    const activationMs = new Map<string, number>();
    warm.on('state', (e) => {
      if (e.to === 'activating') activatingAt.set(e.name, performance.now());
      if (e.to === 'running') activationMs.set(e.name, performance.now() - (activatingAt.get(e.name) ?? Number.NaN));
    });
    for (const name of timed) {
      const client = await warm.get(name, 'Bench');
      if (!lazy) await warm.enable(name);
      const t0 = performance.now();
      await client.call('Bench.Echo', { x: 1 });
      latencies.push(performance.now() - t0 + (lazy ? 0 : activationMs.get(name)!));
    }
    await warm.close();
    const s = summarize(latencies);
    return {
      side,
      installed,
      called,
      rssMb: round(after / 2 ** 20, 1),
      rssAddedMb: round((after - before) / 2 ** 20, 1),
      latencyMs: { p50: round(s.p50, 2), p99: round(s.p99, 2), max: round(Math.max(...latencies), 2) },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const THIS_FILE = fileURLToPath(import.meta.url);

async function inChild(side: Side, n: number, called: number): Promise<SideResult> {
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, THIS_FILE, side, String(n), String(called)], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as SideResult;
}

export async function lazyActivation(n: number, called: number): Promise<LazyResult> {
  const eager = await inChild('eager', n, called);
  const lazy = await inChild('lazy', n, called);
  return {
    n,
    called,
    lazy,
    eager,
    rssRatio: ratio(lazy.rssMb, eager.rssMb),
    rssAddedRatio: ratio(lazy.rssAddedMb, eager.rssAddedMb),
    latencyRatio: ratio(lazy.latencyMs.p50, eager.latencyMs.p50),
  };
}

if (process.argv[1] === THIS_FILE) {
  const [side, n, called] = process.argv.slice(2);
  const result = await runSide(side as Side, Number(n), Number(called));
  process.stdout.write(JSON.stringify(result));
}
