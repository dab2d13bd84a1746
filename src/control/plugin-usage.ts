// CPU and memory of a plugin's running instance: the thread of a worker (CPU from /proc, heap as
// the thread publishes it in its slots), the process of a process plugin (CPU and RSS from /proc).
import type { PluginInstance } from '../isolation/plugin-instance.js';
import { HEAP_LIMIT_KIB, HEAP_TOTAL_KIB, HEAP_USED_KIB, THREAD_ID } from '../isolation/wire-constants.mjs';
import { processUsage, threadUsage } from './proc-usage.js';

export interface PluginUsage {
  /** On-CPU time of the thread or process; null where /proc cannot tell (not Linux). */
  cpuSeconds: number | null;
  /** Resident memory of a process plugin; null for a thread (threads share the host's memory). */
  rssBytes: number | null;
  /** V8 heap of a worker thread's isolate (`used_heap_size`, `total_heap_size`, `heap_size_limit`); null for processes. */
  heap: { usedBytes: number; totalBytes: number; limitBytes: number } | null;
}

/** The heap a worker thread last published (about once a second), or null before its first note. */
export function publishedHeap(slots: Int32Array): PluginUsage['heap'] {
  const usedKib = Atomics.load(slots, HEAP_USED_KIB) >>> 0;
  if (usedKib === 0) return null;
  const kib = (slot: number) => (Atomics.load(slots, slot) >>> 0) * 1024;
  return { usedBytes: usedKib * 1024, totalBytes: kib(HEAP_TOTAL_KIB), limitBytes: kib(HEAP_LIMIT_KIB) };
}

export async function instanceUsage(instance: PluginInstance | undefined): Promise<PluginUsage | null> {
  if (!instance?.running) return null;
  if (instance.kind === 'worker') {
    const heap = publishedHeap(instance.slots);
    const thread = await threadUsage(Atomics.load(instance.slots, THREAD_ID));
    if ((!thread && !heap) || !instance.running) return null;
    return { cpuSeconds: thread?.cpuSeconds ?? null, rssBytes: null, heap };
  }
  const pid = (instance as { pid?: number | null }).pid;
  const usage = typeof pid === 'number' ? await processUsage(pid) : null;
  return usage && { ...usage, heap: null };
}
