// npm run bench [-- --quick] [--n 1,10,100,500] [--reps 3] [--iso-n 20] [--peers-n 10,50] [--lazy-n 1000]
//   [--only cold,warm,faults,calls,isolation,control,peers,procs,lazy,inspector]
// Every scenario runs side by side with its raw worker_threads baseline in this same process and
// run; the table and bench/results/<date>.json report ratios, never absolute claims alone.
import { parseArgs } from 'node:util';
import os from 'node:os';
import { machine, printTable, round, writeResults } from './report.js';
import { calls } from './scenarios/calls.js';
import { control } from './scenarios/control.js';
import { activations } from './scenarios/cold-activations.js';
import { faults } from './scenarios/faults.js';
import { inspectorLoad } from './scenarios/inspector.js';
import { isolation } from './scenarios/isolation.js';
import { processOverhead } from './peers/process-overhead.js';
import { peers } from './scenarios/peers.js';
import { lazyActivation } from './scenarios/lazy.js';

const ALL_SCENARIOS = ['cold', 'warm', 'faults', 'calls', 'isolation', 'control', 'peers', 'procs', 'lazy', 'inspector'];
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    n: { type: 'string' },
    reps: { type: 'string' },
    only: { type: 'string', default: ALL_SCENARIOS.join(',') },
    'watchdog-ms': { type: 'string', default: '500' },
    'iso-n': { type: 'string' },
    'peers-n': { type: 'string', default: '10,50' },
    'lazy-n': { type: 'string' },
  },
});
const quick = values.quick;
const ns = (values.n ?? (quick ? '1,10,100' : '1,10,100,500')).split(',').map(Number);
const warmNs = ns.filter((n) => n <= (quick ? 100 : 500));
const reps = Number(values.reps ?? (quick ? 1 : 3));
const only = new Set(values.only.split(','));
const watchdogMs = Number(values['watchdog-ms']);
const hungCounts = [0, 1, 10, 50];

if (!(globalThis as { gc?: unknown }).gc) console.error('note: run with --expose-gc (npm run bench does) for steadier RSS figures');
console.error(`plugd bench (${quick ? 'quick' : 'full'}): N=${ns.join(',')}, reps=${reps}, watchdogMs=${watchdogMs}`);

const started = Date.now();
const loadAtStart = os.loadavg().map((x) => round(x, 2));
console.error(`load average ${loadAtStart.join(' ')} on ${os.cpus().length} cores`);
const cold = only.has('cold') ? await activations(ns, reps) : [];
const warm = only.has('warm') ? await activations(warmNs, reps, true, cold) : [];
const faultRows = only.has('faults') ? await faults(hungCounts, quick ? 1_500 : 3_000, watchdogMs) : [];
const callResult = only.has('calls') ? await calls(quick ? 2_000 : 10_000) : null;
const isoResult = only.has('isolation') ? await isolation(Number(values['iso-n'] ?? (quick ? 10 : 20)), reps, quick ? 1_000 : 5_000) : null;
const controlResult = only.has('control') ? await control([100, 500], quick ? 3_000 : 10_000) : null;
const peersResult = only.has('peers')
  ? await peers(values['peers-n'].split(',').map(Number), {
      idleMs: quick ? 3_000 : 10_000,
      kills: quick ? 3 : 5,
      callCount: quick ? 5_000 : 20_000,
      reps,
    })
  : null;
const procsResult = only.has('procs') ? await processOverhead(20) : null;
const lazyResult = only.has('lazy') ? await lazyActivation(Number(values['lazy-n'] ?? (quick ? 200 : 1_000)), 50) : null;
const inspectorResult = only.has('inspector') ? await inspectorLoad(100, quick ? 3_000 : 10_000, quick ? 1 : 3) : null;

// ── tables ─────────────────────────────────────────────────────────────────────────────────
if (cold.length) {
  printTable(
    'cold activations (N enabled at once; latency = enable() to running)',
    cold.map((r) => ({
      N: r.n,
      'raw ms': r.raw.totalMs,
      'plugd ms': r.plugd.totalMs,
      'plugd/raw': r.timeRatio,
      'raw act/s': r.raw.perSec,
      'plugd act/s': r.plugd.perSec,
      'raw p50/p99 ms': `${r.raw.p50} / ${r.raw.p99}`,
      'plugd p50/p99 ms': `${r.plugd.p50} / ${r.plugd.p99}`,
      'RSS/plugin MB raw': r.raw.rssPerPluginMb,
      plugd: r.plugd.rssPerPluginMb,
      'RSS plugd/raw': r.rssRatio,
    })),
  );
}
const warmVsCold = warm.map((w) => {
  const coldRaw = cold.find((c) => c.n === w.n)?.raw ?? w.raw;
  return {
    n: w.n,
    warmP50: w.plugd.p50,
    rawColdP50: coldRaw.p50,
    ratio: Number((w.plugd.p50 / coldRaw.p50).toFixed(3)),
    warmTotalMs: w.plugd.totalMs,
    rawColdTotalMs: coldRaw.totalMs,
  };
});
if (warm.length) {
  printTable(
    'warm activations (pool of N standby threads, filled before timing)',
    warmVsCold.map((r) => ({
      N: r.n,
      'warm p50 ms': r.warmP50,
      'raw cold p50 ms': r.rawColdP50,
      'warm/raw cold p50': r.ratio,
      'warm total ms': r.warmTotalMs,
      'raw cold total ms': r.rawColdTotalMs,
    })),
  );
}
if (faultRows.length) {
  printTable(
    `responsiveness: 100 running plugins, K busy-looping, 1 flooding (watchdogMs ${watchdogMs})`,
    faultRows.map((r) => ({
      K: r.hung,
      'loop delay p50/p99/max ms': `${r.loopDelayMs.p50} / ${r.loopDelayMs.p99} / ${r.loopDelayMs.max}`,
      'p99 vs K=0': r.loopDelayP99VsNone,
      'inspect p50/p99 µs': `${r.inspectUs.p50} / ${r.inspectUs.p99}`,
      'list p50/p99 µs': `${r.listUs.p50} / ${r.listUs.p99}`,
      'healthy call p50/p99 ms': `${r.healthyCallMs.p50} / ${r.healthyCallMs.p99}`,
      'hang→detected p50/max ms': r.detectMs ? `${r.detectMs.p50} / ${r.detectMs.max}` : '-',
      'hang→running p50/max ms': r.restartedMs ? `${r.restartedMs.p50} / ${r.restartedMs.max}` : '-',
      'healthy killed': r.healthyKilled,
    })),
  );
}
if (callResult) {
  printTable(`calls (${callResult.count} sequential for latency, then ${callResult.concurrency} in flight for throughput)`, [
    {
      side: 'raw postMessage (worker port, objects)',
      'calls/s': callResult.raw.perSec,
      'p50 µs': callResult.raw.p50Us,
      'p99 µs': callResult.raw.p99Us,
      'plugd/this': callResult.throughputRatio,
    },
    {
      side: 'raw MessageChannel (arrays): stricter floor',
      'calls/s': callResult.rawChannel.perSec,
      'p50 µs': callResult.rawChannel.p50Us,
      'p99 µs': callResult.rawChannel.p99Us,
      'plugd/this': callResult.throughputRatioVsChannel,
    },
    {
      side: 'plugd client.call',
      'calls/s': callResult.plugd.perSec,
      'p50 µs': callResult.plugd.p50Us,
      'p99 µs': callResult.plugd.p99Us,
      'plugd/this': 1,
    },
  ]);
}

if (controlResult) {
  printTable(
    'control API: GET /v1/plugins over the socket (sequential, keep-alive) beside sup.list() + JSON.stringify',
    controlResult.list.map((r) => ({
      'installed plugins': r.n,
      'API p50/p99 µs': `${r.apiUs.p50} / ${r.apiUs.p99}`,
      'in-process p50/p99 µs': `${r.inProcessUs.p50} / ${r.inProcessUs.p99}`,
      'API/in-process p50': r.apiVsInProcessP50,
    })),
  );
  const l = controlResult.load;
  printTable(
    `control API: host event-loop delay, a flooding plugin, ${l.followers} log followers + /v1/metrics every ` +
      `${l.scrapeEveryMs} ms vs none (${l.windowMs} ms each)`,
    [
      {
        run: 'without followers or scrapes',
        'loop delay p50/p99/max ms': `${l.without.p50} / ${l.without.p99} / ${l.without.max}`,
        'lines received': '-',
        scrapes: '-',
      },
      {
        run: 'with them',
        'loop delay p50/p99/max ms': `${l.with.p50} / ${l.with.p99} / ${l.with.max}`,
        'lines received': l.linesReceived,
        scrapes: l.scrapes,
      },
    ],
  );
}

if (isoResult) {
  printTable(
    `isolation: thread vs process (${isoResult.n} activations at once; ${isoResult.callCount} calls sequential, then ` +
      `${isoResult.concurrency} in flight)`,
    (['thread', 'process'] as const).map((side) => ({
      isolation: side,
      'activation total ms': isoResult[side].activation.totalMs,
      'activation p50/p99 ms': `${isoResult[side].activation.p50} / ${isoResult[side].activation.p99}`,
      'call p50/p99 µs': `${isoResult[side].calls.p50Us} / ${isoResult[side].calls.p99Us}`,
      'calls/s': isoResult[side].calls.perSec,
    })),
  );
  console.log(
    `process/thread: activation total ${isoResult.ratios.activationTotal}×, activation p50 ` +
      `${isoResult.ratios.activationP50}×, call p50 ${isoResult.ratios.callP50}×, calls/s ${isoResult.ratios.callsPerSec}×`,
  );
}

if (peersResult) {
  const { rows, versions } = peersResult;
  printTable(
    `peers: N supervised Node servers, plugd process plugins vs PM2 ${versions.pm2} (idle CPU over ` +
      `${peersResult.idleWindowMs / 1000} s; restart = SIGKILL to the replacement answering, p50 of ${peersResult.kills})`,
    rows.flatMap((r) =>
      (['plugd', 'pm2'] as const).map((side) => ({
        N: r.n,
        side,
        'all running ms': r[side].allRunningMs,
        'RSS MB total (supervisor + apps)': `${r[side].rssMb.total} (${r[side].rssMb.supervisor} + ${r[side].rssMb.apps})`,
        'RSS MB per app': r[side].rssMb.perAppTotal,
        'restart p50/max ms': `${r[side].restartMs.p50} / ${r[side].restartMs.max}`,
        'idle CPU ms supervisor / apps': `${r[side].idleCpuMs.supervisor} / ${r[side].idleCpuMs.apps}`,
        'host RSS +MB (info)': r[side].hostRssDeltaMb,
        'other restarts':
          side === 'plugd'
            ? Object.entries(r.plugd.otherRestarts ?? {})
                .filter(([, k]) => k > 0)
                .map(([code, k]) => `${k} ${code}`)
                .join(', ') || 0
            : '-',
      })),
    ),
  );
  printTable(
    'peers: plugd / PM2 (≤ 1 is the goal)',
    rows.map((r) => ({
      N: r.n,
      'all running': r.ratios.allRunning,
      RSS: r.ratios.rss,
      restart: r.ratios.restart,
      'idle CPU': r.ratios.idleCpu,
    })),
  );
  if (peersResult.plugdRestartNoBackoffMs) {
    const nb = peersResult.plugdRestartNoBackoffMs;
    console.log(`plugd restart with restart.backoff.initialMs 1, no jitter (N=${nb.n}): p50 ${nb.p50} ms, max ${nb.max} ms`);
  }
  printTable(
    `peers: worker-thread calls/s, plugd client.call vs piscina ${versions.piscina}.run of the same function (one thread each)`,
    peersResult.calls.rates.map((r) => ({
      'in flight': r.inFlight,
      'plugd calls/s': r.plugd,
      'piscina calls/s': r.piscina,
      'plugd/piscina': r.ratio,
      'piscina default pool calls/s': r.piscinaDefaultPool,
    })),
  );
}
if (procsResult) {
  const p = procsResult;
  printTable(`process plugins: the wrapper's cost (${p.burst} started at once)`, [
    {
      'wrapper RSS MB mean (min–max)': `${p.rssMb.wrapperMean} (${p.rssMb.wrapperMin}–${p.rssMb.wrapperMax})`,
      'plugin RSS MB mean': p.rssMb.pluginMean,
      'wrapper/plugin': p.rssMb.wrapperPerPlugin,
      'Pss MB wrapper / plugin': `${p.pssMb.wrapperMean} / ${p.pssMb.pluginMean}`,
      'main thread per start (handoff + fork) p50/p99/max ms': `${p.spawnSyncMs.p50} / ${p.spawnSyncMs.p99} / ${p.spawnSyncMs.max}`,
      'fork on main thread p50 ms (count)': `${p.forkSyncMs.p50} (${p.forkSyncMs.count})`,
      'main thread busy ms per start': p.mainThreadBusyMsPerStart,
      'setPriority p50/max ms': `${p.setPrioritySyncMs.p50} / ${p.setPrioritySyncMs.max}`,
      'burst total ms': p.burstTotalMs,
      'loop delay p50/p99/max ms idle': `${p.loopDelayMs.idle.p50} / ${p.loopDelayMs.idle.p99} / ${p.loopDelayMs.idle.max}`,
      'during burst': `${p.loopDelayMs.burst.p50} / ${p.loopDelayMs.burst.p99} / ${p.loopDelayMs.burst.max}`,
    },
  ]);
}

if (lazyResult) {
  const l = lazyResult;
  printTable(
    `lazy activation: ${l.n} lazy plugins installed and enabled (idle), ${l.called} of them called, vs ${l.called} eager ` +
      `plugins enabled and called (each side in a fresh process)`,
    [l.lazy, l.eager].map((r) => ({
      side: r.side,
      installed: r.installed,
      called: r.called,
      'host RSS MB': r.rssMb,
      'RSS added MB': r.rssAddedMb,
      latency: `${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.max}`,
      'latency is':
        r.side === 'lazy'
          ? 'first call (activation + call), p50/p99/max ms'
          : 'warm activation (activating → running) + call, p50/p99/max ms',
    })),
  );
}

if (inspectorResult) {
  const x = inspectorResult;
  printTable(
    `web inspector: host event-loop delay, ${x.plugins} running plugins (one crash-looping, one restarted every ` +
      `${x.restartEveryMs} ms), with the inspector served and a client reading its live feed vs without (${x.windowMs} ms ` +
      `each, alternating)`,
    x.runs.map((r) => ({
      inspector: r.inspector ? 'served, feed read' : 'none',
      'loop delay p50/p99/max ms': `${r.delay.p50} / ${r.delay.p99} / ${r.delay.max}`,
      'host CPU ms/s': r.hostCpuMsPerS,
      'state changes': r.stateEvents,
      'feed messages (snapshots)': r.feed ? `${r.feed.messages} (${r.feed.snapshots})` : '-',
      'feed KB': r.feed ? Math.round(r.feed.bytes / 1024) : '-',
    })),
  );
}

// ── targets, each as a ratio measured in this run ────────────────────────────────
const targets: { target: string; measured: string; met: boolean }[] = [];
for (const r of cold.filter((c) => c.n >= 100)) {
  targets.push({ target: `cold N=${r.n}: plugd ≤ 1.15× raw time`, measured: `${r.timeRatio}×`, met: r.timeRatio <= 1.15 });
}
for (const r of cold.filter((c) => c.n >= 100)) {
  targets.push({ target: `RSS per running plugin ≤ 1.1× raw (N=${r.n})`, measured: `${r.rssRatio}×`, met: r.rssRatio <= 1.1 });
}
for (const r of warmVsCold) {
  targets.push({ target: `warm N=${r.n}: p50 ≤ 0.2× raw cold p50`, measured: `${r.ratio}×`, met: r.ratio <= 0.2 });
}
const fifty = faultRows.find((r) => r.hung === 50);
if (fifty) {
  targets.push({
    target: '50 hung: loop delay p99 ≤ 2× none hung',
    measured: `${fifty.loopDelayP99VsNone}× (${fifty.loopDelayMs.p99} ms)`,
    met: fifty.loopDelayP99VsNone <= 2,
  });
}
for (const r of faultRows.filter((f) => f.hung > 0)) {
  targets.push({
    target: `${r.hung} hung: each detected within 2 × watchdogMs`,
    measured: `max ${r.detectMs?.max} ms`,
    met: r.allDetectedWithin2xWatchdog === true,
  });
}
if (faultRows.length) {
  const killed = faultRows.reduce((n, r) => n + r.healthyKilled, 0);
  targets.push({ target: 'no healthy plugin killed as hung (a guard, not a target)', measured: `${killed}`, met: killed === 0 });
}
if (callResult) {
  targets.push({
    target: 'calls/s ≥ 0.5× raw postMessage',
    measured: `${callResult.throughputRatio}× (${callResult.throughputRatioVsChannel}× of the MessageChannel floor)`,
    met: callResult.throughputRatio >= 0.5,
  });
}
for (const r of peersResult?.rows ?? []) {
  const x = (label: string, plugdFig: number, pm2Fig: number, unit: string, value: number) =>
    targets.push({
      target: `peers N=${r.n}: plugd ≤ PM2, ${label}`,
      measured: `${value}× (${plugdFig} vs ${pm2Fig} ${unit})`,
      met: plugdFig <= pm2Fig,
    });
  x('time to all running', r.plugd.allRunningMs, r.pm2.allRunningMs, 'ms', r.ratios.allRunning);
  x('RSS added', r.plugd.rssMb.total, r.pm2.rssMb.total, 'MB', r.ratios.rss);
  x('restart after SIGKILL (p50)', r.plugd.restartMs.p50, r.pm2.restartMs.p50, 'ms', r.ratios.restart);
  x('idle CPU of the supervisor', r.plugd.idleCpuMs.supervisor, r.pm2.idleCpuMs.supervisor, 'ms', r.ratios.idleCpu);
}
if (peersResult || procsResult) {
  const left = (peersResult?.plugdLeftAfterClose ?? 0) + (procsResult?.leftAfterClose ?? 0);
  targets.push({ target: 'no plugin process left 2 s after close() (a guard, not a target)', measured: `${left}`, met: left === 0 });
}
for (const r of peersResult?.calls.rates ?? []) {
  targets.push({
    target: `calls/s ≥ piscina's, ${r.inFlight} in flight`,
    measured: `${r.ratio}× (${r.plugd}/s vs ${r.piscina}/s)`,
    met: r.ratio >= 1,
  });
}
if (procsResult) {
  targets.push({
    target: 'process plugin: wrapper RSS ≤ 2 MB (a baseline for now)',
    measured: `${procsResult.rssMb.wrapperMean} MB`,
    met: procsResult.rssMb.wrapperMean <= 2,
  });
  targets.push({
    target: 'process plugin: main-thread time of a start on its way to the wrapper ≤ 1 ms',
    measured: `p50 ${procsResult.spawnSyncMs.p50} ms, max ${procsResult.spawnSyncMs.max} ms`,
    met: procsResult.spawnSyncMs.max <= 1,
  });
}
if (lazyResult) {
  const l = lazyResult;
  targets.push({
    target: `lazy: host RSS, ${l.n} installed / ${l.called} called ≤ 1.1× ${l.called} eager`,
    measured: `${l.rssRatio}× (${l.lazy.rssMb} vs ${l.eager.rssMb} MB; added ${l.rssAddedRatio}×)`,
    met: l.rssRatio <= 1.1,
  });
  targets.push({
    target: 'lazy: first call p50 ≤ 1.2× warm activation + call',
    measured: `${l.latencyRatio}× (${l.lazy.latencyMs.p50} vs ${l.eager.latencyMs.p50} ms)`,
    met: l.latencyRatio <= 1.2,
  });
}
if (inspectorResult) {
  targets.push({
    target: 'inspector served, feed read: loop delay p99 ≤ 1.1× without',
    measured: `${inspectorResult.p99Ratio}× (${inspectorResult.withP99} vs ${inspectorResult.withoutP99} ms)`,
    met: inspectorResult.p99Ratio <= 1.1,
  });
  targets.push({
    target: 'inspector served, feed read: host CPU (information, no target)',
    measured: `${inspectorResult.cpuRatio}× (${inspectorResult.withCpuMsPerS} vs ${inspectorResult.withoutCpuMsPerS} ms/s)`,
    met: true,
  });
}
printTable('targets', targets);

const file = await writeResults(
  {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: machine(),
    options: { ns, reps, watchdogMs, hungCounts },
    durationS: Math.round((Date.now() - started) / 1000),
    loadAverage: { atStart: loadAtStart, atEnd: os.loadavg().map((x) => round(x, 2)) },
    cold,
    warm: warmVsCold.map((w, i) => ({ ...w, detail: warm[i] })),
    faults: faultRows,
    calls: callResult,
    isolation: isoResult,
    control: controlResult,
    peers: peersResult,
    procs: procsResult,
    lazy: lazyResult,
    inspector: inspectorResult,
    targets,
  },
  quick,
  ALL_SCENARIOS.every((name) => only.has(name)) ? null : ALL_SCENARIOS.filter((name) => only.has(name)),
);
console.log(`\nwritten ${file} (${Math.round((Date.now() - started) / 1000)} s)`);
