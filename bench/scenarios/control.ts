// The control API: GET /v1/plugins latency at N installed plugins (beside sup.list() plus
// JSON.stringify, the floor), and the host's event-loop delay while 10 log followers stream a
// flooding plugin and /v1/metrics is scraped every 100 ms, beside the same run without them.
// Followers and scrapes run in a child process, so only the serving side loads the host.
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ratio, round, summarize } from '../report.js';
import { FLOOD_BUNDLE, sleep, supervisorWithPlugins } from './plugd-fixtures.js';

export interface ControlResult {
  list: { n: number; apiUs: { p50: number; p99: number }; inProcessUs: { p50: number; p99: number }; apiVsInProcessP50: number }[];
  load: {
    windowMs: number;
    followers: number;
    scrapeEveryMs: number;
    without: { p50: number; p99: number; max: number };
    with: { p50: number; p99: number; max: number };
    p99Ratio: number;
    linesReceived: number;
    scrapes: number;
  };
}

function get(agent: http.Agent, socketPath: string, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ agent, socketPath, path: url }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

async function listLatency(n: number, samples: number): Promise<ControlResult['list'][number]> {
  const bench = await supervisorWithPlugins(n, { control: true });
  const socket = path.join(bench.sup.root, 'plugd.sock');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < 50; i++) await get(agent, socket, '/v1/plugins'); // warm-up
    const api: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      await get(agent, socket, '/v1/plugins');
      api.push(performance.now() - t);
    }
    const local: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      JSON.stringify(bench.sup.list());
      local.push(performance.now() - t);
    }
    const a = summarize(api);
    const l = summarize(local);
    return {
      n,
      apiUs: { p50: round(a.p50 * 1000, 0), p99: round(a.p99 * 1000, 0) },
      inProcessUs: { p50: round(l.p50 * 1000, 0), p99: round(l.p99 * 1000, 0) },
      apiVsInProcessP50: ratio(a.p50, l.p50),
    };
  } finally {
    agent.destroy();
    await bench.dispose();
  }
}

/** The child's job: `followers` log followers and a scrape every `every` ms, for `ms`; prints its counts. */
const LOAD_SCRIPT = `
const http = require('node:http');
const [socketPath, followers, every, ms] = process.argv.slice(1);
let lines = 0, scrapes = 0;
const reqs = [];
for (let i = 0; i < Number(followers); i++) {
  reqs.push(http.get({ socketPath, path: '/v1/plugins/flood/logs?follow=1&tail=1' }, (res) => {
    res.on('data', (c) => { for (const b of c) if (b === 10) lines++; });
  }));
}
const scrape = () => http.get({ socketPath, path: '/v1/metrics' }, (res) => { res.resume(); res.on('end', () => scrapes++); });
const timer = setInterval(scrape, Number(every));
setTimeout(() => {
  clearInterval(timer);
  for (const r of reqs) r.destroy();
  console.log(JSON.stringify({ lines, scrapes }));
  process.exit(0);
}, Number(ms));
`;

async function loopDelay(ms: number, during?: () => Promise<{ lines: number; scrapes: number }>) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const counts = during ? await during() : await sleep(ms).then(() => ({ lines: 0, scrapes: 0 }));
  histogram.disable();
  const ms_ = (ns: number) => round(ns / 1e6, 1);
  return { delay: { p50: ms_(histogram.percentile(50)), p99: ms_(histogram.percentile(99)), max: ms_(histogram.max) }, counts };
}

async function underLoad(windowMs: number, followers: number, scrapeEveryMs: number): Promise<ControlResult['load']> {
  const bench = await supervisorWithPlugins(0, { control: true });
  const socket = path.join(bench.sup.root, 'plugd.sock');
  try {
    await bench.sup.install(FLOOD_BUNDLE);
    await bench.sup.enable('flood');
    await sleep(500); // the flood reaches its rate limit
    const without = await loopDelay(windowMs);
    const withLoad = await loopDelay(
      windowMs,
      () =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, ['-e', LOAD_SCRIPT, socket, String(followers), String(scrapeEveryMs), String(windowMs)], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          child.stdout.setEncoding('utf8').on('data', (t: string) => {
            out += t;
          });
          child.on('exit', () => {
            try {
              resolve(JSON.parse(out));
            } catch (e) {
              reject(e);
            }
          });
        }),
    );
    return {
      windowMs,
      followers,
      scrapeEveryMs,
      without: without.delay,
      with: withLoad.delay,
      p99Ratio: ratio(withLoad.delay.p99, without.delay.p99),
      linesReceived: withLoad.counts.lines,
      scrapes: withLoad.counts.scrapes,
    };
  } finally {
    await bench.dispose();
  }
}

export async function control(ns: number[], windowMs: number): Promise<ControlResult> {
  const list: ControlResult['list'] = [];
  for (const n of ns) list.push(await listLatency(n, 200));
  return { list, load: await underLoad(windowMs, 10, 100) };
}
