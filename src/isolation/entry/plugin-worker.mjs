// The entry of every plugin worker: loads the plugin's module and serves the PluginWorkerApi
// over comlink. Runs inside the worker thread, never on the main thread. A standby worker (the
// warm pool) starts without a plugin and receives it with its first activate(init).
// First of all, before any plugin code can run: process.kill refuses the host's own pid.
import './kill-guard.mjs';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { expose } from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { registerErrorTransfer } from '../error-transfer.mjs';
import { CPU_AT_BEAT, HEAP_LIMIT_KIB, HEAP_TOTAL_KIB, HEAP_USED_KIB, HEARTBEAT, SLOT_COUNT, THREAD_ID } from '../wire-constants.mjs';
import { codedError } from './plain-error.mjs';
import { activatePlugin, invokeMethod, loadPlugin, pluginContext, replyWith } from './plugin-definition.mjs';
import { createPluginOutput } from './plugin-output.mjs';
import { cpuMicros, lowerThreadPriority, threadId } from './thread-priority.mjs';

/** How often the thread publishes its heap figures: metrics scrapes read them, nothing waits on them. */
const HEAP_EVERY_MS = 1_000;

if (!parentPort) throw new Error('plugin-worker.mjs must run in a worker thread');
const port = parentPort;
const boot = /** @type {import('../protocol.ts').WorkerBoot} */ (workerData);
registerErrorTransfer();
const tid = threadId();
lowerThreadPriority(tid, boot.nice);

/**
 * @typedef {{
 *   name: string, id: string, instance: number, env: Readonly<Record<string, string | undefined>>,
 *   args: string[], log: import('pino').Logger
 * }} PluginContext
 * @typedef {import('./plugin-definition.mjs').PluginDefinition<PluginContext>} PluginDefinition
 */

/** @type {import('../protocol.ts').PluginInit | null} */
let data = null;
/** @type {ReturnType<typeof createPluginOutput> | null} */
let output = null;
/** @type {NodeJS.Timeout | undefined} */
let heartbeat;
/** @type {PluginDefinition | null} */
let plugin = null;
/** @type {PluginContext | null} */
let ctx = null;

/** Takes on one plugin instance: its env, its output capture and its heartbeat. */
/** @param {import('../protocol.ts').PluginInit} init */
function takeOn(init) {
  data = init;
  Object.assign(process.env, init.env);
  process.argv.push(...init.args);
  const slots = new Int32Array(init.heartbeat, 0, SLOT_COUNT);
  output = createPluginOutput(init, slots);
  Atomics.store(slots, THREAD_ID, tid);
  // The watchdog on the main thread samples this counter: if it stops moving, the loop is blocked
  // (or starved: the CPU time noted with each beat tells which). Every few beats the thread also
  // notes its heap, which only code on this thread can read on Node 20.
  const beatsPerHeap = Math.max(1, Math.round(HEAP_EVERY_MS / init.heartbeatMs));
  let beats = 0;
  const beat = () => {
    if (tid !== 0) Atomics.store(slots, CPU_AT_BEAT, cpuMicros());
    if (beats++ % beatsPerHeap === 0) publishHeap(slots);
    Atomics.add(slots, HEARTBEAT, 1);
  };
  beat();
  heartbeat = setInterval(beat, init.heartbeatMs);
  heartbeat.unref();
  init.callPort.on('message', answerCall);
}

/** Notes this thread's V8 heap (its own isolate's figures) in KiB for the host's metrics. */
/** @param {Int32Array} slots */
function publishHeap(slots) {
  const heap = getHeapStatistics();
  Atomics.store(slots, HEAP_USED_KIB, Math.round(heap.used_heap_size / 1024));
  Atomics.store(slots, HEAP_TOTAL_KIB, Math.round(heap.total_heap_size / 1024));
  Atomics.store(slots, HEAP_LIMIT_KIB, Math.round(heap.heap_size_limit / 1024));
}

/** Answers a CallRequest on the call channel with a CallReply. */
/** @param {import('../protocol.ts').CallRequest} request */
function answerCall([id, method, args]) {
  const current = /** @type {import('../protocol.ts').PluginInit} */ (data);
  const outcome =
    plugin && ctx
      ? invokeMethod(plugin, ctx, current.name, method, args)
      : Promise.reject(codedError('PLUGD_E_NOT_RUNNING', 'no plugin is activated in this worker'));
  replyWith(outcome, current.name, method, (failed, payload) => current.callPort.postMessage([id, failed, payload]));
}

if (boot.init) takeOn(boot.init);

/** @type {import('../protocol.ts').PluginWorkerApi} */
const api = {
  ready() {
    // Answered once this entry has loaded: a standby thread is then ready to take a plugin.
  },

  async activate(init) {
    if (init) {
      if (data) throw codedError('PLUGD_E_ACTIVATION', `this worker already runs plugin "${data.name}"`);
      takeOn(init);
    }
    if (!data || !output) throw codedError('PLUGD_E_ACTIVATION', 'a standby worker needs its plugin in activate(init)');
    const current = data;
    const out = output;
    const def = await loadPlugin(current);
    ctx = pluginContext(current, {
      get log() {
        return out.log;
      },
    });
    const list = await activatePlugin(def, ctx, current.name);
    plugin = def;
    return { implements: list };
  },

  async deactivate() {
    clearInterval(heartbeat);
    try {
      if (plugin?.deactivate && ctx) await plugin.deactivate(ctx);
    } finally {
      output?.flush();
    }
  },
};

expose(api, nodeEndpoint(port));
