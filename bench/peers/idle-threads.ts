// Where an idle supervisor's CPU goes, per thread, with plugd in a process of its own: a store with
// N copies of the peers server installed and enabled, then either an embedding host that does
// nothing else (idle-host.mjs) or `plugd daemon` restores them; once all answer and a settle time
// has passed, each thread of that process (/proc/<pid>/task/*) is read over the window. A tool for
// measuring, not a scenario:
//   node --import tsx bench/peers/idle-threads.ts <host|daemon> [n] [windowMs] [settleMs] [reps]
// WINDOWS=k reads k windows one after the other in the same process (how the idle CPU decays);
// BUILD=src runs the sources through tsx (default: the build in dist/, as an installed package);
// NODE_FLAGS adds flags to plugd's node (e.g. --trace-gc, --perf-basic-prof); ECHO=1 forwards what
// plugd writes; PERF=file records the last window with `perf record -g` (PERF_HZ, default 997);
// STACKS=1 prints each thread's stack (gdb, which also tells the threads apart: ROLES=0 skips it);
// PLUGD_OPTIONS (JSON) is passed to createSupervisor by the host shape.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createSupervisor } from '../../src/index.js';
import { installCopies } from '../scenarios/plugd-fixtures.js';
import { SERVER_BUNDLE } from './plugd-side.js';
import { childrenOf, cpuSeconds, processTable, tidsOf, waitForAnswer } from './proc.js';

const shape = process.argv[2] === 'daemon' ? 'daemon' : 'host';
const n = Number(process.argv[3] ?? 10);
const windowMs = Number(process.argv[4] ?? 10_000);
const settleMs = Number(process.argv[5] ?? 2_000);
const reps = Number(process.argv[6] ?? 1);
const windowCount = Number(process.env.WINDOWS ?? 1);
const fromSource = process.env.BUILD === 'src';
const repo = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ThreadSample {
  name: string;
  /** Time on a CPU, ns (schedstat: exact, where utime + stime count 10 ms ticks). */
  ns: number;
  /** voluntary + involuntary context switches: how often the thread ran. */
  switches: number;
}

/** Every thread of `pid`: name, CPU ticks and context switches, by tid. */
export function threadsOf(pid: number): Map<number, ThreadSample> {
  const out = new Map<number, ThreadSample>();
  for (const tid of tidsOf(pid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      const schedstat = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1');
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ctx = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
      out.set(Number(tid), {
        name,
        ns: Number(schedstat.split(' ')[0]),
        switches: ctx('voluntary_ctxt_switches') + ctx('nonvoluntary_ctxt_switches'),
      });
    } catch {
      /* ended */
    }
  }
  return out;
}

/** A store with `n` copies of the server installed and enabled (their flag kept by close()). */
async function prepareStore(dir: string): Promise<string> {
  const root = path.join(dir, 'store');
  const sup = await createSupervisor({ root, logger: pino({ level: 'silent' }), restore: false, activationTimeoutMs: 60_000 });
  const names = await installCopies(sup, dir, SERVER_BUNDLE, 'peer', n);
  await Promise.all(names.map((name) => sup.enable(name)));
  await sup.close();
  return root;
}

function start(root: string): ChildProcess {
  const loader = [...(process.env.NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...(fromSource ? ['--import', 'tsx'] : [])];
  const env = { ...process.env, ...(fromSource ? { PLUGD_ENTRY: path.join(repo, 'src/index.ts') } : {}) };
  if (shape === 'host') {
    return spawn(process.execPath, [...loader, path.join(repo, 'bench/peers/idle-host.mjs'), root], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  }
  const main = fromSource ? path.join(repo, 'src/cli/main.ts') : path.join(repo, 'dist/src/cli/main.js');
  return spawn(process.execPath, [...loader, main, '--root', root, 'daemon'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Resolves once the child says it is ready: "ready" on stdout (host), "plugd daemon ready" in its log (daemon). */
function ready(child: ChildProcess): Promise<void> {
  const stream = shape === 'host' ? child.stdout! : child.stderr!;
  const marker = shape === 'host' ? 'ready' : 'plugd daemon ready';
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      if (process.env.ECHO) process.stderr.write(chunk);
      text += chunk;
      if (text.includes(marker)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the ${shape} ended (code ${code}) before it was ready: ${text.slice(-2000)}`)));
  });
}

/** Each thread's native stack (gdb, after the window): which thread is which, as Node 20 names them all "node". */
function stacks(pid: number): string {
  const out = spawnSync('gdb', ['-p', String(pid), '-batch', '-ex', 'thread apply all bt 30'], { encoding: 'utf8' }).stdout;
  return out
    .split(/\n(?=Thread \d+ )/)
    .filter((t) => t.startsWith('Thread '))
    .map((t) => {
      const head = /LWP (\d+)/.exec(t)?.[1];
      const frames = [...t.matchAll(/ in (\S+)/g)]
        .map((m) => m[1]!.replace(/\(.*$/, ''))
        .filter((f) => !/^(__|syscall|epoll_wait|pthread_cond|futex|uv__io_poll|start_thread|clone)/.test(f));
      return `${head}: ${frames.slice(0, 6).join(' < ')}`;
    })
    .join('\n');
}

/**
 * What each thread is, from its native stack: Node 20 gives every thread the name "node". The
 * worker threads are told apart by their start order: the log pump starts with the supervisor,
 * the spawner with the first process plugin (piscina's task threads in between end when idle).
 */
function threadRoles(pid: number): Map<number, string> {
  const roles = new Map<number, string>();
  const workers: number[] = [];
  for (const line of stacks(pid).split('\n')) {
    const [tidText, frames = ''] = line.split(': ');
    const tid = Number(tidText);
    if (tid === pid) roles.set(tid, 'main');
    else if (frames.includes('Worker::StartThread')) workers.push(tid);
    else if (frames.includes('DelayedTaskScheduler')) roles.set(tid, 'v8 delayed tasks');
    else if (frames.includes('inspector')) roles.set(tid, 'SIGUSR1 watcher');
    else if (frames.startsWith('uv_cond_wait < worker')) roles.set(tid, 'libuv pool');
    else if (frames.startsWith('uv_cond_wait < node::')) roles.set(tid, 'v8 platform');
  }
  workers.sort((a, b) => a - b);
  const names = workers.length === 2 ? ['log pump', 'spawner'] : workers.map((_, i) => `worker ${i + 1}`);
  for (const [i, tid] of workers.entries()) roles.set(tid, names[i]!);
  return roles;
}

for (let rep = 0; rep < reps; rep++) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugd-bench-idle-'));
  const root = await prepareStore(dir);
  const child = start(root);
  try {
    await ready(child);
    const run = path.join(root, 'run');
    const sockets = readdirSync(run, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => path.join(run, d.name, 'bench.sock'));
    await Promise.all(sockets.map((s) => waitForAnswer(s, null, 60_000, 5)));
    await sleep(settleMs);
    const pid = child.pid!;
    const wrappers = childrenOf(pid, processTable());
    const windows: { processMs: number; wrappersMs: number; byThread: Map<number, { ms: number; runs: number }> }[] = [];
    for (let w = 0; w < windowCount; w++) {
      const t0 = threadsOf(pid);
      const w0 = cpuSeconds(wrappers);
      const perf =
        process.env.PERF && w === windowCount - 1
          ? spawn(
              'perf',
              [
                'record',
                '-q',
                '-F',
                process.env.PERF_HZ ?? '997',
                '-g',
                '-p',
                String(pid),
                '-o',
                process.env.PERF,
                '--',
                'sleep',
                String(windowMs / 1000),
              ],
              {
                stdio: 'ignore',
              },
            )
          : null;
      await sleep(windowMs);
      const t1 = threadsOf(pid);
      if (perf) await new Promise((resolve) => perf.once('exit', resolve));
      const byThread = new Map<number, { ms: number; runs: number }>();
      for (const [tid, s1] of t1) {
        const s0 = t0.get(tid);
        byThread.set(tid, { ms: (s1.ns - (s0?.ns ?? 0)) / 1e6, runs: s1.switches - (s0?.switches ?? 0) });
      }
      let processMs = 0;
      for (const { ms } of byThread.values()) processMs += ms;
      windows.push({ processMs, wrappersMs: (cpuSeconds(wrappers) - w0) * 1000, byThread });
    }
    const roles = process.env.ROLES === '0' ? new Map<number, string>() : threadRoles(pid);
    for (const [i, w] of windows.entries()) {
      const byRole: Record<string, { threads: number; ms: number; runsPerS: number }> = {};
      for (const [tid, t] of w.byThread) {
        const role = roles.get(tid) ?? '?';
        const r = (byRole[role] ??= { threads: 0, ms: 0, runsPerS: 0 });
        r.threads++;
        r.ms += t.ms;
        r.runsPerS += t.runs / (windowMs / 1000);
      }
      for (const r of Object.values(byRole)) {
        r.ms = Math.round(r.ms * 10) / 10;
        r.runsPerS = Math.round(r.runsPerS * 10) / 10;
      }
      console.log(
        JSON.stringify({
          shape,
          build: fromSource ? 'src' : 'dist',
          n,
          window: `${i + 1}/${windowCount}`,
          windowMs,
          processMs: Math.round(w.processMs),
          wrappersMs: Math.round(w.wrappersMs),
          wrappers: wrappers.length,
          threads: w.byThread.size,
          byRole,
        }),
      );
    }
    if (process.env.STACKS) console.log(stacks(pid));
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
process.exit(0);
