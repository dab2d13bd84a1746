// Starts a plugin worker thread: the one place that decides a plugin thread's options, for
// cold starts and for the warm pool's standby threads alike.
import { existsSync } from 'node:fs';
import { Worker, type MessagePort } from 'node:worker_threads';
import type { PluginInit, WorkerBoot } from './protocol.js';

// The one-file bundle (scripts/build-worker.mjs, run by `npm install`) starts ~4 ms faster per
// thread than the entry's seven modules; the modules themselves are the fallback.
const BUNDLED = new URL('./entry/plugin-worker.bundle.mjs', import.meta.url);
const ENTRY = existsSync(BUNDLED) ? BUNDLED : new URL('./entry/plugin-worker.mjs', import.meta.url);

export interface PluginThreadOptions {
  memoryLimitMb: number;
  nice: number;
  /** Node flags for plugin threads. Not inherited from the host: its loaders (tsx...) are not the plugins'. */
  execArgv: string[];
}

/** A thread that runs `init` at once, or a standby thread when `init` is null. */
export function startPluginThread(init: PluginInit | null, options: PluginThreadOptions, label: string): Worker {
  const boot: WorkerBoot = { nice: options.nice, init };
  const transferList: MessagePort[] = init ? [init.logPort, init.callPort] : [];
  const worker = new Worker(ENTRY, {
    name: `plugd:${label}`,
    workerData: boot,
    transferList,
    // Only what plugd grants: a standby thread starts empty and takes its plugin's env later.
    env: init ? init.env : {},
    argv: init ? init.args : [],
    execArgv: options.execArgv,
    // The plugin's stdio is captured inside the worker; nothing should reach the host's.
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: options.memoryLimitMb },
  });
  worker.stdout.resume();
  worker.stderr.resume();
  return worker;
}
