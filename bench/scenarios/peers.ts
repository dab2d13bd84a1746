// plugd side by side with what users would pick instead, in the same run on the same machine:
// - PM2 (programmatic API, daemon home in a temp folder) against plugd process plugins, both
//   supervising N copies of the same Node HTTP server on a UNIX socket: time to all answering,
//   RSS of everything each adds, restart latency after a SIGKILL, idle CPU of the supervisor;
// - piscina.run against plugd client.call of the same function: calls/s at 1 and 64 in flight.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { plugdTree, plugdWithServers, SERVER_SCRIPT } from '../peers/plugd-side.js';
import { removePm2Home, pm2Version, startPm2 } from '../peers/pm2-side.js';
import { startPlugdDaemon } from '../peers/plugd-daemon.js';
import { cpuSeconds, descendants, rssBytes, sumRss, threadCpuNs, waitForAnswer } from '../peers/proc.js';
import { median, ratio, round, settledRss, summarize } from '../report.js';
import { enableAll, sleep, supervisorWithPlugins } from './plugd-fixtures.js';

const MB = 2 ** 20;
/** Plugin processes found alive 2 s after plugd's close() resolved, over the whole scenario. */
let leftAfterClose = 0;
/** Between the last start and the RSS reading: both sides' processes finish booting. */
const SETTLE_MS = 1_500;

export interface SupervisorSide {
  /** From the first start to every supervised server answering on its socket. */
  allRunningMs: number;
  /** Everything the side added: the supervisor's own processes plus the supervised servers. */
  rssMb: { total: number; supervisor: number; apps: number; perAppTotal: number; perAppSupervisor: number };
  /** SIGKILL of one server to its replacement answering on the same socket, ms. */
  restartMs: { p50: number; max: number; samples: number[] };
  /**
   * CPU the supervisor used over the idle window (ms), and the servers (ms), with N running. The
   * supervisor: PM2's daemon; plugd's daemon (`plugd daemon`, a process of its own) plus its
   * wrappers. Each daemon's main thread and other threads apart (schedstat, ms), and its threads.
   */
  idleCpuMs: { supervisor: number; apps: number; mainThread?: number; otherThreads?: number; threads?: number };
  /**
   * plugd only, the earlier figure: the bench's own process (plugd embedded in it, and the bench
   * harness that also drives PM2's side) plus the wrappers, over the same idle window.
   */
  idleCpuInBenchProcessMs?: { supervisor: number; apps: number };
  /** Not in the goal, for reference: what the bench's own process grew by (plugd's threads; PM2's client). */
  hostRssDeltaMb: number;
  /** plugd only: restarts other than the bench's SIGKILLs (e.g. a plugin judged hung on a loaded machine), by error code. */
  otherRestarts?: Record<string, number>;
}

export interface PeersRow {
  n: number;
  plugd: SupervisorSide;
  pm2: SupervisorSide & { daemonStartMs: number };
  /** plugd / PM2, each figure: ≤ 1 is the goal (idle CPU with a floor of one clock tick, 10 ms, on both sides). */
  ratios: { allRunning: number; rss: number; restart: number; idleCpu: number };
}

export interface CallRate {
  inFlight: number;
  plugd: number;
  piscina: number;
  /** piscina with its default pool (up to 1.5 × cores threads), for reference. */
  piscinaDefaultPool: number;
  /** plugd / piscina (one thread each): ≥ 1 is the goal. */
  ratio: number;
}

export interface PeersResult {
  versions: { pm2: string; piscina: string; node: string };
  idleWindowMs: number;
  kills: number;
  rows: PeersRow[];
  /** plugd restart latency with restart.backoff.initialMs 1 and no jitter: the mechanism without the policy's delay. */
  plugdRestartNoBackoffMs: { n: number; p50: number; max: number } | null;
  calls: { count: number; rates: CallRate[] };
  /** A guard: plugin processes still alive 2 s after plugd's close() resolved (should be 0). */
  plugdLeftAfterClose: number;
}

/** Kills `kills` distinct servers one after another; ms from each SIGKILL to the replacement answering. */
async function restarts(sockets: string[], kills: number): Promise<number[]> {
  const samples: number[] = [];
  for (const socket of sockets.slice(0, kills)) {
    const pid = await waitForAnswer(socket, null, 10_000);
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    await waitForAnswer(socket, pid, 30_000);
    samples.push(performance.now() - t0);
  }
  return samples;
}

const restartSummary = (samples: number[]) => {
  const s = summarize(samples);
  return { p50: round(s.p50, 1), max: round(s.max, 1), samples: samples.map((x) => round(x, 1)) };
};

async function plugdSide(n: number, idleMs: number, kills: number): Promise<SupervisorSide> {
  const bench = await plugdWithServers(n);
  const restartCodes: Record<string, number> = {};
  bench.sup.on('state', (e) => {
    if (e.to === 'restarting') restartCodes[e.error?.code ?? '?'] = (restartCodes[e.error?.code ?? '?'] ?? 0) + 1;
  });
  try {
    const hostBefore = await settledRss();
    const t0 = performance.now();
    await enableAll(bench.sup, bench.names);
    const sockets = await bench.sockets();
    await Promise.all(sockets.map((s) => waitForAnswer(s, null, 10_000, 5)));
    const allRunningMs = performance.now() - t0;
    await sleep(SETTLE_MS);
    const hostRssDeltaMb = round(((await settledRss()) - hostBefore) / MB, 1);
    const { wrappers, plugins } = plugdTree();
    if (plugins.length !== n) throw new Error(`expected ${n} plugin processes under the wrappers, found ${plugins.length}`);
    const supervisorRss = sumRss(wrappers);
    const appsRss = sumRss(plugins);
    const cpu0 = { sup: cpuSeconds(['self', ...wrappers]), apps: cpuSeconds(plugins) };
    await sleep(idleMs);
    const cpu1 = { sup: cpuSeconds(['self', ...wrappers]), apps: cpuSeconds(plugins) };
    const crashesBefore = restartCodes.PLUGD_E_PLUGIN_EXITED ?? 0;
    const restartSamples = await restarts(sockets, kills);
    const otherRestarts = { ...restartCodes };
    // The bench's own SIGKILLs end as crashes: those are not counted here.
    const ours = Math.min(kills, (restartCodes.PLUGD_E_PLUGIN_EXITED ?? 0) - crashesBefore);
    if (otherRestarts.PLUGD_E_PLUGIN_EXITED !== undefined) otherRestarts.PLUGD_E_PLUGIN_EXITED -= ours;
    return {
      otherRestarts,
      allRunningMs: round(allRunningMs, 1),
      rssMb: rss(supervisorRss, appsRss, n),
      restartMs: restartSummary(restartSamples),
      idleCpuMs: { supervisor: round((cpu1.sup - cpu0.sup) * 1000, 0), apps: round((cpu1.apps - cpu0.apps) * 1000, 0) },
      hostRssDeltaMb,
    };
  } finally {
    leftAfterClose += (await bench.dispose()).length;
  }
}

/**
 * plugd's idle CPU as PM2's is read: `plugd daemon` in a process of its own, N plugins enabled over
 * its control socket once it is up (as PM2's apps are started once its daemon is up), then the
 * same settle time and window as PM2's side.
 */
async function plugdDaemonIdle(n: number, idleMs: number): Promise<SupervisorSide['idleCpuMs']> {
  const daemon = await startPlugdDaemon(n);
  try {
    await daemon.enableAll();
    await Promise.all(daemon.sockets().map((s) => waitForAnswer(s, null, 60_000, 5)));
    await sleep(SETTLE_MS);
    const wrappers = daemon.wrappers();
    const plugins = wrappers.flatMap((w) => descendants(w));
    if (plugins.length !== n) throw new Error(`expected ${n} plugin processes under plugd daemon's wrappers, found ${plugins.length}`);
    const read = () => ({ sup: cpuSeconds([daemon.pid, ...wrappers]), apps: cpuSeconds(plugins), threads: threadCpuNs(daemon.pid) });
    const cpu0 = read();
    await sleep(idleMs);
    return idleFigures(daemon.pid, cpu0, read());
  } finally {
    leftAfterClose += (await daemon.stop()).length;
  }
}

interface IdleReading {
  sup: number;
  apps: number;
  threads: Map<number, number>;
}

/**
 * A supervisor daemon's idle figures between two readings: CPU ms (clock ticks), and its main
 * thread's and its other threads' apart (schedstat).
 */
function idleFigures(pid: number, cpu0: IdleReading, cpu1: IdleReading): SupervisorSide['idleCpuMs'] {
  let main = 0;
  let others = 0;
  for (const [tid, ns] of cpu1.threads) {
    const ms = (ns - (cpu0.threads.get(tid) ?? 0)) / 1e6;
    if (tid === pid) main += ms;
    else others += ms;
  }
  return {
    supervisor: round((cpu1.sup - cpu0.sup) * 1000, 0),
    apps: round((cpu1.apps - cpu0.apps) * 1000, 0),
    mainThread: round(main, 1),
    otherThreads: round(others, 1),
    threads: cpu1.threads.size,
  };
}

/** The in-process side (time to running, RSS, restarts, the earlier idle figure), then the daemon's idle CPU. */
async function plugdTurn(n: number, idleMs: number, kills: number): Promise<SupervisorSide> {
  const side = await plugdSide(n, idleMs, kills);
  return { ...side, idleCpuMs: await plugdDaemonIdle(n, idleMs), idleCpuInBenchProcessMs: side.idleCpuMs };
}

async function pm2Side(n: number, idleMs: number, kills: number): Promise<SupervisorSide & { daemonStartMs: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugd-bench-peers-pm2-'));
  const hostBefore = await settledRss();
  const tStart = performance.now();
  const daemon = await startPm2();
  const daemonStartMs = performance.now() - tStart;
  try {
    const apps = Array.from({ length: n }, (_, i) => ({
      name: `peer-${i}`,
      script: SERVER_SCRIPT,
      socket: path.join(dir, `peer-${i}.sock`),
    }));
    const t0 = performance.now();
    await daemon.startApps(apps);
    await Promise.all(apps.map((a) => waitForAnswer(a.socket, null, 60_000, 5)));
    const allRunningMs = performance.now() - t0;
    await sleep(SETTLE_MS);
    const hostRssDeltaMb = round(((await settledRss()) - hostBefore) / MB, 1);
    const appPids = descendants(daemon.pid);
    const supervisorRss = rssBytes(daemon.pid);
    const appsRss = sumRss(appPids);
    const read = () => ({ sup: cpuSeconds([daemon.pid]), apps: cpuSeconds(appPids), threads: threadCpuNs(daemon.pid) });
    const cpu0 = read();
    await sleep(idleMs);
    const cpu1 = read();
    const restartSamples = await restarts(
      apps.map((a) => a.socket),
      kills,
    );
    return {
      daemonStartMs: round(daemonStartMs, 1),
      allRunningMs: round(allRunningMs, 1),
      rssMb: rss(supervisorRss, appsRss, n),
      restartMs: restartSummary(restartSamples),
      idleCpuMs: idleFigures(daemon.pid, cpu0, cpu1),
      hostRssDeltaMb,
    };
  } finally {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function rss(supervisor: number, apps: number, n: number) {
  return {
    total: round((supervisor + apps) / MB, 1),
    supervisor: round(supervisor / MB, 1),
    apps: round(apps / MB, 1),
    perAppTotal: round((supervisor + apps) / MB / n, 2),
    perAppSupervisor: round(supervisor / MB / n, 2),
  };
}

async function plugdRestartNoBackoff(n: number, kills: number) {
  const bench = await plugdWithServers(n, { restart: { backoff: { initialMs: 1 }, jitter: 0 } });
  try {
    await enableAll(bench.sup, bench.names);
    const sockets = await bench.sockets();
    await sleep(SETTLE_MS);
    const s = summarize(await restarts(sockets, kills));
    return { n, p50: round(s.p50, 1), max: round(s.max, 1) };
  } finally {
    leftAfterClose += (await bench.dispose()).length;
  }
}

/** calls/s with `inFlight` calls outstanding at all times, after a warm-up. */
async function rate(call: (i: number) => Promise<unknown>, count: number, inFlight: number): Promise<number> {
  for (let i = 0; i < 500; i++) await call(i);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await call(next++);
    }),
  );
  return (count / (performance.now() - t0)) * 1000;
}

async function plugdCalls(count: number, inFlight: number): Promise<number> {
  const bench = await supervisorWithPlugins(1);
  try {
    await bench.sup.enable(bench.names[0]!);
    const client = await bench.sup.get(bench.names[0]!, 'Bench');
    return await rate((i) => client.call('Bench.Echo', { i }), count, inFlight);
  } finally {
    await bench.dispose();
  }
}

async function piscinaCalls(count: number, inFlight: number, oneThread: boolean): Promise<number> {
  const pool = new Piscina({
    filename: new URL('../peers/echo-task.mjs', import.meta.url).href,
    ...(oneThread ? { minThreads: 1, maxThreads: 1 } : {}),
  });
  try {
    return await rate((i) => pool.run({ i }), count, inFlight);
  } finally {
    await pool.destroy();
  }
}

async function callRates(count: number, reps: number): Promise<CallRate[]> {
  const rates: CallRate[] = [];
  for (const inFlight of [1, 64]) {
    const plugd: number[] = [];
    const piscina: number[] = [];
    const piscinaDefault: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      // Alternate which side goes first, so neither always meets a warmer machine.
      if (rep % 2 === 0) plugd.push(await plugdCalls(count, inFlight));
      piscina.push(await piscinaCalls(count, inFlight, true));
      piscinaDefault.push(await piscinaCalls(count, inFlight, false));
      if (rep % 2 === 1) plugd.push(await plugdCalls(count, inFlight));
    }
    const row = {
      inFlight,
      plugd: round(median(plugd), 0),
      piscina: round(median(piscina), 0),
      piscinaDefaultPool: round(median(piscinaDefault), 0),
    };
    rates.push({ ...row, ratio: ratio(row.plugd, row.piscina) });
    console.error(
      `  peers calls, ${inFlight} in flight: plugd ${row.plugd}/s, piscina ${row.piscina}/s (default pool ${row.piscinaDefaultPool}/s)`,
    );
  }
  return rates;
}

export async function peers(
  ns: number[],
  options: { idleMs: number; kills: number; callCount: number; reps: number },
): Promise<PeersResult> {
  const { idleMs, kills, callCount, reps } = options;
  const rows: PeersRow[] = [];
  try {
    for (const [i, n] of ns.entries()) {
      // Alternate which side goes first, so neither always meets a warmer machine.
      let plugd: SupervisorSide | undefined;
      if (i % 2 === 0) plugd = await plugdTurn(n, idleMs, kills);
      const pm2 = await pm2Side(n, idleMs, kills);
      if (i % 2 === 1) plugd = await plugdTurn(n, idleMs, kills);
      plugd = plugd!;
      rows.push({
        n,
        plugd,
        pm2,
        ratios: {
          allRunning: ratio(plugd.allRunningMs, pm2.allRunningMs),
          rss: ratio(plugd.rssMb.total, pm2.rssMb.total),
          restart: ratio(plugd.restartMs.p50, pm2.restartMs.p50),
          idleCpu: ratio(Math.max(plugd.idleCpuMs.supervisor, 10), Math.max(pm2.idleCpuMs.supervisor, 10)),
        },
      });
      console.error(
        `  peers N=${n}: all running plugd ${plugd.allRunningMs} ms, PM2 ${pm2.allRunningMs} ms; RSS plugd ` +
          `${plugd.rssMb.total} MB, PM2 ${pm2.rssMb.total} MB`,
      );
    }
  } finally {
    await removePm2Home();
  }
  const noBackoff = ns.length ? await plugdRestartNoBackoff(ns[0]!, kills) : null;
  return {
    versions: { pm2: pm2Version(), piscina: Piscina.version, node: process.version },
    idleWindowMs: idleMs,
    kills,
    rows,
    plugdRestartNoBackoffMs: noBackoff,
    calls: { count: callCount, rates: await callRates(callCount, reps) },
    plugdLeftAfterClose: leftAfterClose,
  };
}
