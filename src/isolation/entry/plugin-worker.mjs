// The entry of every plugin worker: loads the plugin's module and serves the PluginWorkerApi
// over comlink. Runs inside the worker thread, never on the main thread. A standby worker (the
// warm pool) starts without a plugin and receives it with its first activate(init).
// First of all, before any plugin code can run: process.kill refuses the host's own pid.
import './kill-guard.mjs';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { expose } from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { registerErrorTransfer, toPlain } from '../error-transfer.mjs';
import { CPU_AT_BEAT, HEARTBEAT, SLOT_COUNT, STANDBY_READY, THREAD_ID } from '../wire-constants.mjs';
import { createPluginOutput } from './plugin-output.mjs';
import { cpuMicros, lowerThreadPriority, threadId } from './thread-priority.mjs';

if (!parentPort) throw new Error('plugin-worker.mjs must run in a worker thread');
const port = parentPort;
const boot = /** @type {import('../protocol.ts').WorkerBoot} */ (workerData);
registerErrorTransfer();
const tid = threadId();
lowerThreadPriority(tid, boot.nice);

/**
 * @typedef {{ name: string, id: string, instance: number, env: Readonly<Record<string, string | undefined>>, args: string[], log: import('pino').Logger }} PluginContext
 * @typedef {{ activate?: (ctx: PluginContext) => unknown, methods?: Record<string, (args: unknown, ctx: PluginContext) => unknown>, deactivate?: (ctx: PluginContext) => unknown }} PluginDefinition
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
  // (or starved: the CPU time noted with each beat tells which).
  const beat = () => {
    if (tid !== 0) Atomics.store(slots, CPU_AT_BEAT, cpuMicros());
    Atomics.add(slots, HEARTBEAT, 1);
  };
  beat();
  heartbeat = setInterval(beat, init.heartbeatMs);
  heartbeat.unref();
  init.callPort.on('message', answerCall);
}

/** Runs one method of the plugin. */
/** @param {string} method @param {unknown} args */
async function invoke(method, args) {
  if (!plugin || !ctx || !data) throw codedError('PLUGD_E_NOT_RUNNING', 'no plugin is activated in this worker');
  const methods = plugin.methods ?? {};
  const fn = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (typeof fn !== 'function') {
    throw codedError(
      'PLUGD_E_METHOD',
      `plugin "${data.name}" has no method "${method}"; it defines: ${Object.keys(methods).join(', ') || '(none)'}`,
    );
  }
  return fn(args, ctx);
}

/** Answers a CallRequest on the call channel with a CallReply. */
/** @param {import('../protocol.ts').CallRequest} request */
function answerCall([id, method, args]) {
  const port = /** @type {import('../protocol.ts').PluginInit} */ (data).callPort;
  invoke(method, args).then(
    (value) => {
      try {
        port.postMessage([id, 0, value]);
      } catch (e) {
        const name = /** @type {import('../protocol.ts').PluginInit} */ (data).name;
        port.postMessage([
          id,
          1,
          toPlain(
            codedError(
              'PLUGD_E_PLUGIN_ERROR',
              `plugin "${name}" method "${method}" returned a value that cannot be sent back to the host (it must be structured-cloneable): ${e instanceof Error ? e.message : String(e)}`,
            ),
          ),
        ]);
      }
    },
    (e) => port.postMessage([id, 1, toPlain(e)]),
  );
}

if (boot.init) takeOn(boot.init);

/**
 * An error of plugd's own (named PlugdError, the code kept out of the message): the main thread
 * rebuilds it as a PlugdError, where a plugin's own error is wrapped.
 * @param {string} code @param {string} message @param {unknown} [cause]
 */
function codedError(code, message, cause) {
  const error = Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
  error.name = 'PlugdError';
  return error;
}

/** @param {unknown} def @param {import('../protocol.ts').PluginInit} init @returns {PluginDefinition} */
function checkDefinition(def, init) {
  const where = `plugin "${init.name}" (${init.entry})`;
  if (typeof def !== 'object' || def === null) {
    throw codedError('PLUGD_E_ACTIVATION', `${where} must export default { activate, methods, deactivate }`);
  }
  const d = /** @type {Record<string, unknown>} */ (def);
  for (const hook of ['activate', 'deactivate']) {
    if (d[hook] !== undefined && typeof d[hook] !== 'function') {
      throw codedError('PLUGD_E_ACTIVATION', `${where}: "${hook}" must be a function`);
    }
  }
  if (d.methods !== undefined && (typeof d.methods !== 'object' || d.methods === null)) {
    throw codedError('PLUGD_E_ACTIVATION', `${where}: "methods" must be an object of functions`);
  }
  return /** @type {PluginDefinition} */ (def);
}

/**
 * Loads the plugin's module. A module that cannot be found, resolved or evaluated fails the
 * activation with what Node said, once.
 * @param {import('../protocol.ts').PluginInit} init
 */
async function importPlugin(init) {
  try {
    return await import(pathToFileURL(init.entry).href);
  } catch (e) {
    throw codedError(
      'PLUGD_E_ACTIVATION',
      `plugin "${init.name}": cannot load ${init.entry}: ${e instanceof Error ? e.message : String(e)}`,
      e,
    );
  }
}

/** @type {import('../protocol.ts').PluginWorkerApi} */
const api = {
  async activate(init) {
    if (init) {
      if (data) throw codedError('PLUGD_E_ACTIVATION', `this worker already runs plugin "${data.name}"`);
      takeOn(init);
    }
    if (!data || !output) throw codedError('PLUGD_E_ACTIVATION', 'a standby worker needs its plugin in activate(init)');
    const current = data;
    const out = output;
    const mod = await importPlugin(current);
    const def = checkDefinition(mod.default, current);
    ctx = Object.freeze({
      name: current.name,
      id: current.id,
      instance: current.instance,
      env: Object.freeze({ ...process.env }),
      args: [...current.args],
      get log() {
        return out.log;
      },
    });
    let answer;
    try {
      answer = def.activate ? await def.activate(ctx) : undefined;
    } catch (e) {
      throw codedError(
        'PLUGD_E_ACTIVATION',
        `plugin "${current.name}": activate() threw: ${e instanceof Error ? e.message : String(e)}`,
        e,
      );
    }
    const list = /** @type {{ Implements?: unknown } | undefined} */ (answer)?.Implements;
    if (!Array.isArray(list) || !list.every((t) => typeof t === 'string')) {
      throw codedError(
        'PLUGD_E_ACTIVATION',
        `plugin "${current.name}": activate() must return { Implements: ["Capability", ...] } (Docker's Plugin.Activate answer)`,
      );
    }
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
if (!boot.init) port.postMessage({ type: STANDBY_READY });
