// `plugd top`: a live table of the plugins, refreshed every second, from /v1/plugins and /v1/metrics.
import type { Command } from 'commander';
import type { PluginInfo } from '../../runtime/plugin-info.js';
import { contextOf, UsageError } from '../context.js';
import { bytes, duration, print, table } from '../output.js';
import { stateLabel } from '../../runtime/state-label.js';
import { buckets, parseProm, perPlugin, quantile, type Sample } from '../prom-text.js';

const CALL_HISTOGRAM = 'plugd_plugin_call_duration_seconds';

interface Frame {
  at: number;
  samples: Sample[];
}

export interface TopRow {
  name: string;
  state: string;
  /** A lazy plugin that is `enabled` without an instance, waiting for its next call. */
  idle: boolean;
  uptimeMs: number | null;
  restarts: number;
  callsPerSec: number | null;
  callP99Ms: number | null;
  cpuPercent: number | null;
  /** A process plugin's resident memory, or a worker plugin's V8 heap in use: `memory` says which. */
  memoryBytes: number | null;
  memory: 'rss' | 'heap' | null;
}

export function topRows(plugins: PluginInfo[], now: Frame, before: Frame | null): TopRow[] {
  const seconds = before ? (now.at - before.at) / 1000 : 0;
  const calls = perPlugin(now.samples, 'plugd_plugin_calls_total');
  const callsBefore = before ? perPlugin(before.samples, 'plugd_plugin_calls_total') : new Map<string, number>();
  const cpu = perPlugin(now.samples, 'plugd_plugin_cpu_seconds_total');
  const cpuBefore = before ? perPlugin(before.samples, 'plugd_plugin_cpu_seconds_total') : new Map<string, number>();
  const rss = perPlugin(now.samples, 'plugd_plugin_memory_bytes');
  const heap = perPlugin(now.samples, 'plugd_plugin_heap_used_bytes');
  return plugins.map((p) => {
    // p99 of the last interval when it had calls, else of all calls so far.
    const recent = before
      ? quantile(buckets(now.samples, CALL_HISTOGRAM, p.name), buckets(before.samples, CALL_HISTOGRAM, p.name), 0.99)
      : null;
    const p99 = recent ?? quantile(buckets(now.samples, CALL_HISTOGRAM, p.name), [], 0.99);
    const cpuNow = cpu.get(p.name);
    const cpuThen = cpuBefore.get(p.name);
    const rssNow = rss.get(p.name);
    const heapNow = heap.get(p.name);
    return {
      name: p.name,
      state: p.state,
      idle: p.idle,
      uptimeMs: p.instance?.uptimeMs ?? null,
      restarts: p.restarts,
      callsPerSec: seconds > 0 ? ((calls.get(p.name) ?? 0) - (callsBefore.get(p.name) ?? 0)) / seconds : null,
      callP99Ms: p99 === null ? null : p99 * 1000,
      cpuPercent: seconds > 0 && cpuNow !== undefined && cpuThen !== undefined ? Math.max(0, ((cpuNow - cpuThen) / seconds) * 100) : null,
      memoryBytes: rssNow ?? heapNow ?? null,
      memory: rssNow !== undefined ? 'rss' : heapNow !== undefined ? 'heap' : null,
    };
  });
}

function render(rows: TopRow[]): string {
  const num = (v: number | null, digits = 1) => (v === null ? '-' : Number.isFinite(v) ? v.toFixed(digits) : '>30s');
  return table(
    ['NAME', 'STATE', 'UPTIME', 'RESTARTS', 'CALLS/S', 'CALL P99 MS', 'CPU %', 'MEMORY'],
    rows.map((r) => [
      r.name,
      stateLabel(r),
      duration(r.uptimeMs),
      String(r.restarts),
      num(r.callsPerSec),
      num(r.callP99Ms, 2),
      num(r.cpuPercent),
      r.memory === null ? '-' : `${bytes(r.memoryBytes)} ${r.memory}`,
    ]),
  );
}

export function registerTop(program: Command): void {
  program
    .command('top')
    .description('a live table of the plugins, every second: state, uptime, restarts, calls/s, call p99, CPU, memory (rss or heap)')
    .option('-n, --iterations <n>', 'stop after n refreshes', (v) => {
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--iterations takes a positive whole number, got "${v}"`);
      return Number(v);
    })
    .action(async (opts: { iterations?: number }, command: Command) => {
      const ctx = contextOf(command);
      const live = process.stdout.isTTY && !ctx.json;
      let before: Frame | null = null;
      let stopped = false;
      const stop = () => {
        stopped = true;
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      for (let i = 0; !stopped && (opts.iterations === undefined || i < opts.iterations); i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
        const [plugins, text] = await Promise.all([
          ctx.api.request<PluginInfo[]>('GET', '/v1/plugins'),
          ctx.api.request<string>('GET', '/v1/metrics'),
        ]);
        const now: Frame = { at: Date.now(), samples: parseProm(text) };
        const rows = topRows(plugins, now, before);
        before = now;
        if (ctx.json) print(JSON.stringify({ at: now.at, plugins: rows }));
        else if (live) process.stdout.write(`\x1b[H\x1b[2J${render(rows)}\n`);
        else print(`${render(rows)}\n`);
      }
    });
}
