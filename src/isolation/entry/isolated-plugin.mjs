// The entry of a plugin run with "isolation": "process": a Node process of its own under Node's
// permission model, started by node-process-instance.ts. It loads the plugin's module (the
// worker contract: default export { activate, methods, deactivate }) and serves it over IPC.
//
//   host ──IPC (advanced serialization)──> this process ── import(entry) in the bundle
//        <── activated / reply / pong / crashed (each checked by the host)
//   stdout, stderr ──UNIX socket (passed by the host)──> log pump thread
//
// It imports nothing but Node's own modules and the two entry modules it shares with the worker
// entry (plain-error.mjs, plugin-definition.mjs): every file it reads must be allowed by
// --allow-fs-read, and the bundle, these three files and the data folder are all that is.
import os from 'node:os';
import { syncBuiltinESMExports } from 'node:module';
import { format } from 'node:util';
import { codedError, safeString, toPlain } from './plain-error.mjs';
import { activatePlugin, invokeMethod, loadPlugin, pluginContext, replyWith } from './plugin-definition.mjs';

if (!process.send) throw new Error('isolated-plugin.mjs must run as a child with an IPC channel');
const send = process.send.bind(process);
const hostPid = process.ppid;

// The parent is gone (its end of the channel closed): nothing may outlive it.
process.on('disconnect', () => process.exit(0));

// Node's permission model does not cover signals: the plugin may signal only itself. process.kill
// goes through process._kill, so guarding that covers both (UV_EPERM makes kill throw EPERM).
const UV_EPERM = -1;
const rawKill = /** @type {(pid: number, signal: number) => number} */ (/** @type {any} */ (process)._kill);
Object.defineProperty(process, '_kill', {
  value: (/** @type {number} */ pid, /** @type {number} */ signal) => (pid === process.pid ? rawKill.call(process, pid, signal) : UV_EPERM),
  writable: false,
  configurable: false,
});
const rawSetPriority = /** @type {(...a: unknown[]) => void} */ (os.setPriority);
os.setPriority = /** @type {typeof os.setPriority} */ (
  (/** @type {unknown[]} */ ...a) => {
    const pid = a.length >= 2 ? a[0] : 0;
    if (pid !== 0 && pid !== process.pid)
      throw Object.assign(new Error('setPriority EPERM: a plugin may set only its own priority'), { code: 'EPERM' });
    return rawSetPriority(...a);
  }
);
syncBuiltinESMExports();

/**
 * @typedef {import('../isolated-protocol.ts').IsolatedInit} IsolatedInit
 * @typedef {{
 *   name: string, id: string, instance: number, env: Readonly<Record<string, string | undefined>>,
 *   args: string[], dataDir: string, log: PluginLog
 * }} PluginContext
 * @typedef {import('./plugin-definition.mjs').PluginDefinition<PluginContext>} PluginDefinition
 */

/** @type {IsolatedInit | null} */
let data = null;
/** @type {PluginDefinition | null} */
let plugin = null;
/** @type {PluginContext | null} */
let ctx = null;

// pino's levels; ctx.log writes one line per record to stdout (below warn) or stderr, which the
// log pump frames, rate-limits and tags with { plugin, instance, stream }.
const LEVELS = /** @type {const} */ ({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 });

/**
 * A logger with pino's level methods: `log.info('text %s', x)` or `log.info({ field }, 'text')`.
 * @typedef {{ [K in keyof typeof LEVELS]: (...args: unknown[]) => void }
 *   & { level: string, child: (bindings: object) => PluginLog }} PluginLog
 * @param {string} level @param {object} bindings @returns {PluginLog}
 */
function createLog(level, bindings) {
  const threshold = LEVELS[/** @type {keyof typeof LEVELS} */ (level)] ?? LEVELS.info;
  /** @type {Record<string, unknown>} */
  const log = { level, child: (/** @type {object} */ more) => createLog(level, { ...bindings, ...more }) };
  for (const [name, value] of Object.entries(LEVELS)) {
    log[name] = (/** @type {unknown[]} */ ...args) => {
      if (value < threshold) return;
      const fields =
        args.length > 0 && typeof args[0] === 'object' && args[0] !== null && !(args[0] instanceof Error)
          ? { ...bindings, .../** @type {object} */ (args.shift()) }
          : bindings;
      const extra = Object.keys(fields).length > 0 ? ` ${safeString(fields)}` : '';
      const line = `${format(...args)}${extra}\n`;
      (value >= LEVELS.warn ? process.stderr : process.stdout).write(line);
    };
  }
  return /** @type {PluginLog} */ (/** @type {unknown} */ (log));
}

/** @param {IsolatedInit} init @returns {Promise<string[]>} */
async function activate(init) {
  if (data) throw codedError('PLUGD_E_ACTIVATION', `this process already runs plugin "${data.name}"`);
  data = init;
  process.argv.push(...init.args);
  const def = await loadPlugin(init);
  ctx = pluginContext(init, { dataDir: init.dataDir, log: createLog(init.logLevel, {}) });
  const list = await activatePlugin(def, ctx, init.name);
  plugin = def;
  return list;
}

/** @param {number} id @param {string} method @param {unknown} args */
function answerCall(id, method, args) {
  const name = data?.name ?? '(none)';
  const outcome =
    plugin && ctx
      ? invokeMethod(plugin, ctx, name, method, args)
      : Promise.reject(codedError('PLUGD_E_NOT_RUNNING', 'no plugin is activated in this process'));
  replyWith(outcome, name, method, (failed, payload) => send(['reply', id, failed, payload]));
}

async function deactivate() {
  try {
    if (plugin?.deactivate && ctx) await plugin.deactivate(ctx);
  } finally {
    send(['deactivated']);
  }
}

process.on('message', (/** @type {import('../isolated-protocol.ts').ParentMessage} */ m) => {
  switch (m[0]) {
    case 'activate':
      activate(m[1]).then(
        (list) => send(['activated', list]),
        (e) => send(['activate-failed', toPlain(e)]),
      );
      break;
    case 'call':
      answerCall(m[1], m[2], m[3]);
      break;
    case 'ping':
      send(['pong', m[1]]);
      break;
    case 'deactivate':
      void deactivate().catch(() => {
        /* reported as deactivated all the same */
      });
      break;
  }
});

// An uncaught error ends the instance, as in a worker; the host hears why before the exit.
process.on('uncaughtException', (e) => {
  process.exitCode = 1;
  try {
    send(['crashed', toPlain(e)], () => process.exit(1));
  } catch {
    process.exit(1);
  }
});

// A parent that died while this loop was busy: the disconnect may come late, the new ppid tells.
setInterval(() => {
  if (process.ppid !== hostPid) process.exit(0);
}, 1000).unref();
