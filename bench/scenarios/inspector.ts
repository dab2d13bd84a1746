// The web inspector's cost to the host: the host's event-loop delay with N running plugins (one
// crash-looping, one restarted every `restartEveryMs`, so state changes flow) and the inspector
// served with a client reading its live feed, beside the same run without the inspector. The
// client runs in a child process (a plain Node HTTP client: the token URL, then the SSE feed with
// the cookie), so only the serving side loads the host. Runs alternate without/with, `reps` times.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { median, ratio, round } from '../report.js';
import { enableAll, sleep, supervisorWithPlugins } from './plugd-fixtures.js';

interface Delay {
  p50: number;
  p99: number;
  max: number;
}

export interface InspectorRun {
  inspector: boolean;
  delay: Delay;
  /**
   * The host process's CPU time in the window (user + system), per second of wall time: less swayed
   * by other load on the machine than the loop delay.
   */
  hostCpuMsPerS: number;
  /** State changes the host made in the window (the crash loop's and the restarts'). */
  stateEvents: number;
  /** What the feed's client read in the window (null without the inspector). */
  feed: { messages: number; snapshots: number; bytes: number } | null;
}

export interface InspectorResult {
  plugins: number;
  windowMs: number;
  restartEveryMs: number;
  runs: InspectorRun[];
  /** Median of each side's p99 across reps. */
  withoutP99: number;
  withP99: number;
  p99Ratio: number;
  withoutCpuMsPerS: number;
  withCpuMsPerS: number;
  cpuRatio: number;
}

const CRASHER =
  "export default { activate: () => { setTimeout(() => { throw new Error('crash loop'); }, 100); " +
  "return { Implements: ['Bench'] }; }, methods: {} };\n";

async function crasherBundle(dir: string): Promise<string> {
  const bundle = path.join(dir, 'crasher');
  await mkdir(bundle, { recursive: true });
  await writeFile(path.join(bundle, 'index.mjs'), CRASHER);
  await writeFile(
    path.join(bundle, 'plugin.json'),
    JSON.stringify({
      name: 'crasher',
      version: '1.0.0',
      kind: 'worker',
      entrypoint: 'index.mjs',
      interface: { types: ['Bench'] },
      restart: { policy: 'always' },
    }),
  );
  return bundle;
}

/** The child's job: open the token URL, take the cookie, read /feed for `ms`; prints its counts. */
const CLIENT_SCRIPT = `
const http = require('node:http');
const [url, ms] = process.argv.slice(1);
const u = new URL(url);
http.get(u, (res) => {
  res.resume();
  const cookie = String(res.headers['set-cookie']).split(';')[0];
  if (res.statusCode !== 302 || !cookie.startsWith('plugd_inspector=')) { console.error('no cookie', res.statusCode); process.exit(2); }
  let messages = 0, snapshots = 0, bytes = 0, tail = '';
  const req = http.get({ host: u.hostname, port: u.port, path: '/feed', headers: { cookie } }, (feed) => {
    if (feed.statusCode !== 200) { console.error('feed', feed.statusCode); process.exit(2); }
    feed.setEncoding('utf8');
    feed.on('data', (chunk) => {
      bytes += Buffer.byteLength(chunk);
      const parts = (tail + chunk).split('\\n\\n');
      tail = parts.pop();
      for (const p of parts) {
        if (!p.startsWith('data: ')) continue;
        messages++;
        if (p.includes('"@xstate.snapshot"')) snapshots++;
      }
    });
  });
  setTimeout(() => { req.destroy(); console.log(JSON.stringify({ messages, snapshots, bytes })); process.exit(0); }, Number(ms));
});
`;

function readFeed(url: string, ms: number): Promise<InspectorRun['feed']> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT_SCRIPT, url, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      out += t;
    });
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`the feed's client ended with ${code}`));
      }
    });
  });
}

async function run(plugins: number, withInspector: boolean, windowMs: number, restartEveryMs: number): Promise<InspectorRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugd-bench-inspector-'));
  const bench = await supervisorWithPlugins(plugins - 1, {
    control: withInspector ? { inspector: { port: 0 } } : true,
    restart: { backoff: { initialMs: 50, maxMs: 200 }, intensity: { maxRestarts: 1_000_000, periodMs: 1_000 }, jitter: 0 },
  });
  try {
    await bench.sup.install(await crasherBundle(dir));
    await enableAll(bench.sup, bench.names);
    await bench.sup.enable('crasher');
    let stateEvents = 0;
    const count = () => {
      stateEvents++;
    };
    bench.sup.on('state', count);
    await sleep(1_000); // the crash loop settles into its backoff; the inspector's first list is in
    stateEvents = 0;
    let i = 0;
    const restarter = setInterval(() => {
      void bench.sup.restart(bench.names[i++ % bench.names.length]!).catch(() => undefined);
    }, restartEveryMs);
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    const cpu = process.cpuUsage();
    const wall = performance.now();
    const feed = withInspector ? await readFeed(bench.sup.inspectorUrl!, windowMs) : await sleep(windowMs).then(() => null);
    histogram.disable();
    const used = process.cpuUsage(cpu);
    const hostCpuMsPerS = round((used.user + used.system) / 1000 / ((performance.now() - wall) / 1000), 1);
    clearInterval(restarter);
    bench.sup.off('state', count);
    const ms = (ns: number) => round(ns / 1e6, 2);
    return {
      inspector: withInspector,
      delay: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) },
      hostCpuMsPerS,
      stateEvents,
      feed,
    };
  } finally {
    await bench.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function inspectorLoad(plugins: number, windowMs: number, reps: number, restartEveryMs = 200): Promise<InspectorResult> {
  const runs: InspectorRun[] = [];
  for (let r = 0; r < reps; r++) {
    runs.push(await run(plugins, false, windowMs, restartEveryMs));
    runs.push(await run(plugins, true, windowMs, restartEveryMs));
  }
  const withoutP99 = median(runs.filter((x) => !x.inspector).map((x) => x.delay.p99));
  const withP99 = median(runs.filter((x) => x.inspector).map((x) => x.delay.p99));
  const withoutCpuMsPerS = median(runs.filter((x) => !x.inspector).map((x) => x.hostCpuMsPerS));
  const withCpuMsPerS = median(runs.filter((x) => x.inspector).map((x) => x.hostCpuMsPerS));
  return {
    plugins,
    windowMs,
    restartEveryMs,
    runs,
    withoutP99,
    withP99,
    p99Ratio: ratio(withP99, withoutP99),
    withoutCpuMsPerS,
    withCpuMsPerS,
    cpuRatio: ratio(withCpuMsPerS, withoutCpuMsPerS),
  };
}
