// What plugd adds per process plugin: the RSS (and PSS) of its wrapper processes, and the time
// each start blocks the host's main thread on its way to the wrapper (the synchronous part of
// ProcessInstance.start, plus a child_process.spawn when the main thread forks), at N = 1, 10, 50.
// The plugins are `sleep` (a process that never opens its socket), measured while they activate:
// the wrapper is all that is plugd's, whatever the plugin is.
// Run: npx tsx bench/scenarios/process-overhead.ts [--n 1,10,50] [--src <dir of plugd's src>]
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { timeSpawns } from '../peers/spawn-timing.js';

const MB = 1024;
const { values } = parseArgs({ options: { n: { type: 'string', default: '1,10,50' }, src: { type: 'string' } } });
const src = values.src ? pathToFileURL(`${path.resolve(values.src)}/`).href : new URL('../../src/', import.meta.url).href;
const { createSupervisor } = (await import(new URL('index.js', src).href)) as typeof import('../../src/index.js');
const { ProcessInstance } = (await import(
  new URL('isolation/process-instance.js', src).href
)) as typeof import('../../src/isolation/process-instance.js');

/** kB of one field of /proc/<pid>/status or smaps_rollup (0 when gone). */
function kb(pid: number, file: string, field: string): number {
  try {
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The children of a process, whichever of its threads forked them (ppid in /proc/<pid>/stat). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? 0;
const r = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function measure(n: number) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugd-procs-'));
  const sup = await createSupervisor({
    root: path.join(dir, 's'),
    logger: pino({ level: 'silent' }),
    restore: false,
    activationTimeoutMs: 120_000,
  });
  try {
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const bundle = path.join(dir, 'bundles', `p${i}`);
      await mkdir(bundle, { recursive: true });
      await writeFile(
        path.join(bundle, 'plugin.json'),
        JSON.stringify({
          name: `p${i}`,
          version: '1.0.0',
          kind: 'process',
          exec: ['sleep', '600'],
          interface: { types: ['X'], socket: 'p.sock' },
          restart: { policy: 'no' },
        }),
      );
      names.push((await sup.install(bundle)).name);
    }
    const before = new Set(childrenOf(process.pid));
    const timing = timeSpawns(ProcessInstance);
    const enabling = names.map((name) => sup.enable(name).catch(() => {}));
    // Every wrapper up with its plugin below it.
    let wrappers: number[] = [];
    for (let waited = 0; waited < 60_000; waited += 100) {
      wrappers = childrenOf(process.pid).filter((pid) => !before.has(pid) && childrenOf(pid).length > 0);
      if (wrappers.length === n) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    timing.restore();
    const perStart = timing.perStartMs;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rss = wrappers.map((pid) => kb(pid, 'status', 'VmRSS'));
    const pss = wrappers.map((pid) => kb(pid, 'smaps_rollup', 'Pss'));
    const plugins = wrappers.flatMap((pid) => childrenOf(pid)).map((pid) => kb(pid, 'status', 'VmRSS'));
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    for (const name of names) void sup.disable(name, { force: true }).catch(() => {});
    await Promise.all(enabling);
    return {
      n,
      wrappers: wrappers.length,
      wrapperRssMbPerPlugin: r(sum(rss) / MB / n),
      wrapperPssMbPerPlugin: r(sum(pss) / MB / n),
      pluginRssMb: r(sum(plugins) / MB / n),
      spawnMs: { p50: r(pct(perStart, 50)), p99: r(pct(perStart, 99)), max: r(Math.max(...perStart)), count: perStart.length },
      forksOnMainThread: timing.spawnMs.length,
    };
  } finally {
    await sup.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function processOverhead(ns: number[]) {
  const rows = [];
  for (const n of ns) rows.push(await measure(n));
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await processOverhead(values.n.split(',').map(Number));
  console.table(
    rows.map((row) => ({
      N: row.n,
      'wrapper RSS MB/plugin': row.wrapperRssMbPerPlugin,
      'wrapper PSS MB/plugin': row.wrapperPssMbPerPlugin,
      'plugin RSS MB': row.pluginRssMb,
      'main thread per start ms p50/p99/max': `${row.spawnMs.p50} / ${row.spawnMs.p99} / ${row.spawnMs.max}`,
      starts: row.spawnMs.count,
      'forks on main thread': row.forksOnMainThread,
    })),
  );
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${os.cpus().length} cores`,
  );
}
