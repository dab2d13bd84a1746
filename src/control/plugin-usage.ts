// CPU and memory of a plugin's running instance: the thread of a worker, the process of a process plugin.
import type { PluginInstance } from '../isolation/plugin-instance.js';
import { THREAD_ID } from '../isolation/wire-constants.mjs';
import { processUsage, threadUsage, type Usage } from './proc-usage.js';

export async function instanceUsage(instance: PluginInstance | undefined): Promise<Usage | null> {
  if (!instance?.running) return null;
  if (instance.kind === 'worker') return threadUsage(Atomics.load(instance.slots, THREAD_ID));
  const pid = (instance as { pid?: number | null }).pid;
  return typeof pid === 'number' ? processUsage(pid) : null;
}
