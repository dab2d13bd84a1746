import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { topRows } from '../../src/cli/commands/top.js';
import { parseProm, perPlugin } from '../../src/cli/prom-text.js';
import type { Supervisor } from '../../src/index.js';
import { bundle, onCleanup, supervisor } from '../helpers.js';
import { request } from './http.js';

const MiB = 1024 * 1024;
/** How long a figure may take to show: the thread notes its heap about once a second. */
const FIGURE_DEADLINE = { timeout: 15_000, interval: 100 };

async function figure(sup: Supervisor, metric: string, plugin: string): Promise<number | undefined> {
  return perPlugin(parseProm(await sup.metrics()), metric).get(plugin);
}

const heapUsed = (sup: Supervisor, plugin: string) => figure(sup, 'plugd_plugin_heap_used_bytes', plugin);

/** Resolves with what `fn` returns once it is not undefined, polling until the deadline. */
async function eventually<T>(fn: () => Promise<T | undefined>): Promise<T> {
  let value: T | undefined;
  await expect.poll(async () => (value = await fn()), FIGURE_DEADLINE).toBeDefined();
  return value as T;
}

describe("a worker thread's own heap statistics", () => {
  it("describe the thread's isolate, not the host's", async () => {
    // The limit a thread reports follows its own resourceLimits (plus a young generation whose
    // size depends on the V8 version), and what it allocates shows in its figures.
    const seen = await Promise.all([48, 112].map((mb) => heapOfThread(mb)));
    const { getHeapStatistics } = await import('node:v8');
    expect(seen[1]!.limit - seen[0]!.limit).toBe(64 * MiB);
    expect(seen[0]!.limit).not.toBe(getHeapStatistics().heap_size_limit);
    expect(seen[0]!.grew).toBeGreaterThanOrEqual(20 * MiB);
  });
});

/** A thread limited to `mb` of old generation: its heap_size_limit, and how its heap grew for ~24 MiB kept. */
async function heapOfThread(mb: number): Promise<{ limit: number; grew: number }> {
  const worker = new Worker(
    `const v8 = require('node:v8');
     const before = v8.getHeapStatistics();
     const kept = Array.from({ length: 24 }, (_, i) => new Array(131072).fill(i + 0.5));
     const after = v8.getHeapStatistics();
     require('node:worker_threads').parentPort.postMessage({
       limit: after.heap_size_limit, grew: after.used_heap_size - before.used_heap_size, kept: kept.length,
     });`,
    { eval: true, resourceLimits: { maxOldGenerationSizeMb: mb } },
  );
  onCleanup(() => worker.terminate());
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

describe('heap figures of worker plugins', () => {
  it('grow by what a plugin keeps on its heap', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('hoarder'));
    await sup.enable('hoarder');
    const idle = await eventually(() => heapUsed(sup, 'hoarder'));
    expect(idle).toBeGreaterThan(0);
    expect(await figure(sup, 'plugd_plugin_heap_total_bytes', 'hoarder')).toBeGreaterThanOrEqual(idle);
    await (await sup.get('hoarder', 'Hoard')).call('Hoard.Keep', { mb: 50 });
    await expect.poll(() => heapUsed(sup, 'hoarder'), FIGURE_DEADLINE).toBeGreaterThanOrEqual(idle + 40 * MiB);
    expect(await figure(sup, 'plugd_plugin_heap_total_bytes', 'hoarder')).toBeGreaterThanOrEqual(idle + 40 * MiB);
  });

  it('are served on GET /v1/metrics with their HELP and TYPE', async () => {
    const sup = await supervisor({ control: true });
    await sup.install(await bundle('hoarder'));
    await sup.enable('hoarder');
    await eventually(() => heapUsed(sup, 'hoarder'));
    const answer = await request(path.join(sup.root, 'plugd.sock'), 'GET', '/v1/metrics');
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('# TYPE plugd_plugin_heap_used_bytes gauge');
    expect(answer.text).toContain('# HELP plugd_plugin_heap_used_bytes ');
    expect(answer.text).toContain('# TYPE plugd_plugin_heap_total_bytes gauge');
    expect(perPlugin(parseProm(answer.text), 'plugd_plugin_heap_used_bytes').get('hoarder')).toBeGreaterThan(MiB);
  });

  it("give the heap's limit: memoryLimitMb for the old generation, plus V8's young generation", async () => {
    const limits = [];
    for (const memoryLimitMb of [96, 160]) {
      const sup = await supervisor({ memoryLimitMb });
      await sup.install(await bundle('hoarder'));
      await sup.enable('hoarder');
      limits.push(await eventually(() => figure(sup, 'plugd_plugin_heap_limit_bytes', 'hoarder')));
    }
    expect(limits[0]).toBeGreaterThanOrEqual(96 * MiB);
    expect(limits[1]! - limits[0]!).toBe(64 * MiB);
  });

  it('are removed once the plugin stops, and come back with its next instance', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('hoarder'));
    await sup.enable('hoarder');
    await eventually(() => heapUsed(sup, 'hoarder'));
    await sup.disable('hoarder');
    const text = await sup.metrics();
    expect(perPlugin(parseProm(text), 'plugd_plugin_heap_used_bytes').has('hoarder')).toBe(false);
    expect(perPlugin(parseProm(text), 'plugd_plugin_heap_total_bytes').has('hoarder')).toBe(false);
    await sup.enable('hoarder');
    expect(await eventually(() => heapUsed(sup, 'hoarder'))).toBeGreaterThan(0);
  });

  it('are not given for a process-isolated plugin, which keeps its resident memory from /proc', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('iso-basic'));
    await sup.install(await bundle('hoarder'));
    await sup.enable('iso-basic');
    await sup.enable('hoarder');
    await eventually(() => figure(sup, 'plugd_plugin_memory_bytes', 'iso-basic'));
    await eventually(() => heapUsed(sup, 'hoarder'));
    const samples = parseProm(await sup.metrics());
    expect(perPlugin(samples, 'plugd_plugin_heap_used_bytes').has('iso-basic')).toBe(false);
    expect(perPlugin(samples, 'plugd_plugin_memory_bytes').has('hoarder')).toBe(false);
    // plugd top's MEMORY column: resident memory for the process, heap for the thread, and says which.
    const rows = topRows(sup.list(), { at: Date.now(), samples }, null);
    expect(rows.find((r) => r.name === 'iso-basic')).toMatchObject({ memory: 'rss', memoryBytes: expect.any(Number) });
    expect(rows.find((r) => r.name === 'hoarder')).toMatchObject({
      memory: 'heap',
      memoryBytes: perPlugin(samples, 'plugd_plugin_heap_used_bytes').get('hoarder'),
    });
  });
});
