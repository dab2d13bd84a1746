// The supervisor's Prometheus metrics. Figures are kept as plain numbers where they happen (calls
// in CallCounters, restarts and activations from state events) and folded into prom-client's
// registry only when it is scraped, through collect callbacks.
import type { Metric, Registry } from 'prom-client';
import type { PluginStateName } from '../../machines/types.js';
import type { PluginInfo } from '../runtime/plugin-info.js';
import type { StateEvent } from '../runtime/state-event.js';
import { CALL_BUCKETS_MS, CallCounters } from './call-counters.js';
import type { PluginUsage } from './plugin-usage.js';

const STATES: PluginStateName[] = ['installed', 'enabled', 'activating', 'running', 'restarting', 'stopping', 'disabled', 'removed'];
const ACTIVATION_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

/** What the metrics read from the supervisor at scrape time. */
export interface MetricsSource {
  list(): PluginInfo[];
  usageOf(name: string): Promise<PluginUsage | null>;
}

/** The exit reason a failure's error code stands for. */
function reasonOf(event: StateEvent): string {
  switch (event.error?.code) {
    case 'PLUGD_E_PLUGIN_HUNG':
      return 'hung';
    case 'PLUGD_E_PLUGIN_OOM':
      return 'oom';
    case 'PLUGD_E_PLUGIN_EXITED':
      return 'exited';
    case 'PLUGD_E_ACTIVATION':
      return 'activation-failed';
    case 'PLUGD_E_ACTIVATION_TIMEOUT':
      return 'activation-timeout';
    default:
      return 'error';
  }
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

interface Buckets {
  counts: Float64Array;
  sumMs: number;
}

/** A histogram whose buckets are counted elsewhere: prom-client formats it, nothing is observed twice. */
function foldedHistogram(name: string, help: string, boundsMs: number[], read: () => Iterable<[string, Buckets]>): Metric {
  return {
    name,
    help,
    type: 'histogram',
    get: async () => {
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      for (const [plugin, { counts, sumMs }] of read()) {
        let cumulative = 0;
        boundsMs.forEach((bound, i) => {
          cumulative += counts[i]!;
          values.push({ metricName: `${name}_bucket`, labels: { plugin, le: bound / 1000 }, value: cumulative });
        });
        cumulative += counts[boundsMs.length]!;
        values.push({ metricName: `${name}_bucket`, labels: { plugin, le: '+Inf' }, value: cumulative });
        values.push({ metricName: `${name}_sum`, labels: { plugin }, value: sumMs / 1000 });
        values.push({ metricName: `${name}_count`, labels: { plugin }, value: cumulative });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
  } as unknown as Metric;
}

export class PluginMetrics {
  readonly calls = new CallCounters();
  readonly #source: MetricsSource;
  /** "plugin\0reason" → count */
  readonly #restarts = new Map<string, number>();
  readonly #kills = new Map<string, number>();
  readonly #pendingReason = new Map<string, string>();
  readonly #activatingSince = new Map<string, number>();
  readonly #activations = new Map<string, Buckets>();
  /** Lines followers of the control API lost because they read too slowly. */
  followerDrops = 0;
  #registry: Registry | null = null;

  constructor(source: MetricsSource) {
    this.#source = source;
  }

  /** The listener to hand to `sup.on('state')`. */
  readonly onState = (event: StateEvent): void => {
    if (event.to === 'restarting') {
      const reason = reasonOf(event);
      this.#pendingReason.set(event.name, reason);
      if (reason === 'hung') bump(this.#kills, `${event.name}\0hung`);
    }
    if (event.from === 'restarting' && event.to === 'activating') {
      bump(this.#restarts, `${event.name}\0${this.#pendingReason.get(event.name) ?? 'error'}`);
    }
    if (event.to === 'activating') this.#activatingSince.set(event.name, event.at);
    if (event.to === 'running') {
      const since = this.#activatingSince.get(event.name);
      if (since !== undefined) this.#observeActivation(event.name, event.at - since);
    }
  };

  /** The Prometheus text exposition of every metric. */
  async text(): Promise<string> {
    return (await this.#registryNow()).metrics();
  }

  /** The exposition's content type (prom-client's, once a scrape loaded it). */
  get contentType(): string {
    return this.#registry?.contentType ?? 'text/plain; version=0.0.4; charset=utf-8';
  }

  #observeActivation(name: string, ms: number): void {
    let b = this.#activations.get(name);
    if (!b) {
      b = { counts: new Float64Array(ACTIVATION_BUCKETS_MS.length + 1), sumMs: 0 };
      this.#activations.set(name, b);
    }
    let i = 0;
    while (i < ACTIVATION_BUCKETS_MS.length && ms > ACTIVATION_BUCKETS_MS[i]!) i++;
    b.counts[i]! += 1;
    b.sumMs += ms;
  }

  /** Made on the first scrape: a host that never scrapes pays for none of it, not even the import. */
  async #registryNow(): Promise<Registry> {
    if (this.#registry) return this.#registry;
    // prom-client is loaded here, not at import: `import 'plugd'` (in a host, or in a plugin
    // thread that imports definePlugin) should not pay for it.
    const { collectDefaultMetrics, Counter, Gauge, Registry } = await import('prom-client');
    if (this.#registry) return this.#registry;
    const registers = [(this.#registry = new Registry())];
    const source = this.#source;
    const calls = this.calls;
    const restarts = this.#restarts;
    const kills = this.#kills;
    const self = this;
    collectDefaultMetrics({ register: this.#registry });
    new Gauge({
      name: 'plugd_plugin_info',
      help: 'Installed plugins (always 1), by version and kind.',
      labelNames: ['plugin', 'version', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const p of source.list()) this.set({ plugin: p.name, version: p.version, kind: p.kind }, 1);
      },
    });
    new Gauge({
      name: 'plugd_plugin_state',
      help: 'The lifecycle state of each plugin: 1 for the current one.',
      labelNames: ['plugin', 'state'],
      registers,
      collect() {
        this.reset();
        for (const p of source.list()) for (const state of STATES) this.set({ plugin: p.name, state }, p.state === state ? 1 : 0);
      },
    });
    new Counter({
      name: 'plugd_plugin_restarts_total',
      help: 'Restarts of each plugin, by the reason its last instance ended.',
      labelNames: ['plugin', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const [key, n] of restarts) {
          const [plugin, reason] = key.split('\0') as [string, string];
          this.inc({ plugin, reason }, n);
        }
      },
    });
    new Counter({
      name: 'plugd_plugin_calls_total',
      help: 'Calls to each plugin, by outcome (ok, error, timeout, not_running).',
      labelNames: ['plugin', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const [plugin, s] of calls.entries()) {
          this.inc({ plugin, outcome: 'ok' }, s.ok);
          this.inc({ plugin, outcome: 'error' }, s.error);
          this.inc({ plugin, outcome: 'timeout' }, s.timeout);
          this.inc({ plugin, outcome: 'not_running' }, s.notRunning);
        }
      },
    });
    this.#registry.registerMetric(
      foldedHistogram(
        'plugd_plugin_call_duration_seconds',
        'How long calls to each plugin took, answered or failed.',
        CALL_BUCKETS_MS,
        function* callBuckets() {
          for (const [plugin, s] of calls.entries()) yield [plugin, { counts: s.buckets, sumMs: s.sumMs }];
        },
      ),
    );
    this.#registry.registerMetric(
      foldedHistogram(
        'plugd_plugin_activation_duration_seconds',
        'From activating to running, per activation.',
        ACTIVATION_BUCKETS_MS,
        () => this.#activations.entries(),
      ),
    );
    new Counter({
      name: 'plugd_watchdog_kills_total',
      help: 'Instances the watchdog terminated, by reason.',
      labelNames: ['plugin', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const [key, n] of kills) {
          const [plugin, reason] = key.split('\0') as [string, string];
          this.inc({ plugin, reason }, n);
        }
      },
    });
    new Counter({
      name: 'plugd_plugin_log_lines_dropped_total',
      help: 'Log lines each plugin wrote beyond its rate limit, dropped.',
      labelNames: ['plugin'],
      registers,
      collect() {
        this.reset();
        for (const p of source.list()) this.inc({ plugin: p.name }, p.logs.dropped);
      },
    });
    new Counter({
      name: 'plugd_control_follower_lines_dropped_total',
      help: 'Lines log and event followers of the control API lost by reading too slowly.',
      registers,
      collect() {
        this.reset();
        this.inc(self.followerDrops);
      },
    });
    new Gauge({
      name: 'plugd_plugin_uptime_seconds',
      help: "How long each plugin's running instance has run.",
      labelNames: ['plugin'],
      registers,
      collect() {
        this.reset();
        for (const p of source.list()) if (p.instance) this.set({ plugin: p.name }, p.instance.uptimeMs / 1000);
      },
    });
    const cpu = new Counter({
      name: 'plugd_plugin_cpu_seconds_total',
      help: "CPU time of each plugin's running instance (its thread, or its process).",
      labelNames: ['plugin'],
      registers,
    });
    const memory = new Gauge({
      name: 'plugd_plugin_memory_bytes',
      help: "Resident memory of each process plugin (worker threads share the host's: see plugd_plugin_heap_used_bytes).",
      labelNames: ['plugin'],
      registers,
    });
    const heapUsed = new Gauge({
      name: 'plugd_plugin_heap_used_bytes',
      help: "V8 heap in use in each worker plugin's thread, as the thread last noted it (about once a second).",
      labelNames: ['plugin'],
      registers,
    });
    const heapTotal = new Gauge({
      name: 'plugd_plugin_heap_total_bytes',
      help: "V8 heap reserved by each worker plugin's thread (used and free), as the thread last noted it.",
      labelNames: ['plugin'],
      registers,
    });
    const heapLimit = new Gauge({
      name: 'plugd_plugin_heap_limit_bytes',
      help: "What each worker plugin's V8 heap may grow to before its thread ends out of memory: memoryLimitMb plus V8's young generation.",
      labelNames: ['plugin'],
      registers,
    });
    // One read of /proc (and of the heap slots) per plugin per scrape feeds all five.
    const usageMetrics = [cpu, memory, heapUsed, heapTotal, heapLimit];
    let usage: Promise<void> | null = null;
    const readUsage = () => {
      usage ??= (async () => {
        for (const metric of usageMetrics) metric.reset();
        await Promise.all(
          source.list().map(async (p) => {
            const u = await source.usageOf(p.name);
            if (!u) return;
            const plugin = { plugin: p.name };
            if (u.cpuSeconds !== null) cpu.inc(plugin, u.cpuSeconds);
            if (u.rssBytes !== null) memory.set(plugin, u.rssBytes);
            if (u.heap) {
              heapUsed.set(plugin, u.heap.usedBytes);
              heapTotal.set(plugin, u.heap.totalBytes);
              heapLimit.set(plugin, u.heap.limitBytes);
            }
          }),
        );
      })().finally(() => {
        usage = null;
      });
      return usage;
    };
    for (const metric of usageMetrics) (metric as unknown as { collect: () => Promise<void> }).collect = readUsage;
    return this.#registry;
  }
}
