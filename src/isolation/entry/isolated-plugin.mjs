// The entry of a plugin run with "isolation": "process": a Node process of its own under Node's
// permission model, started by node-process-instance.ts. It loads the plugin's module (the
// worker contract: default export { activate, methods, deactivate }) and serves it over IPC.
//
//   host ──IPC (advanced serialization)──> this process ── import(entry) in the bundle
//        <── activated / reply / pong / crashed (each checked by the host)
//   stdout, stderr ──UNIX socket (passed by the host)──> log pump thread
//
// It imports nothing but Node's own modules: every file it reads must be allowed by
// --allow-fs-read, and the bundle, this file and the data folder are all that is.
import os from 'node:os';
import { syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

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
 * @typedef {import('../isolated-protocol.ts').PlainError} PlainError
 * @typedef {{ name: string, id: string, instance: number, env: Readonly<Record<string, string | undefined>>, args: string[], dataDir: string, log: PluginLog }} PluginContext
 * @typedef {{ activate?: (ctx: PluginContext) => unknown, methods?: Record<string, (args: unknown, ctx: PluginContext) => unknown>, deactivate?: (ctx: PluginContext) => unknown }} PluginDefinition
 */

/** @type {IsolatedInit | null} */
let data = null;
/** @type {PluginDefinition | null} */
let plugin = null;
/** @type {PluginContext | null} */
let ctx = null;

const MAX_CAUSE_DEPTH = 4;

/** The cloneable form of a thrown value, in the shape the host checks. */
/** @param {unknown} value @param {number} depth @returns {PlainError} */
function toPlain(value, depth = 0) {
  if (!(value instanceof Error)) return { name: 'Error', message: typeof value === 'string' ? value : safeString(value) };
  const err = /** @type {Error & { code?: unknown }} */ (value);
  /** @type {PlainError} */
  const plain = { name: String(err.name), message: String(err.message) };
  if (typeof err.stack === 'string') plain.stack = err.stack;
  if (typeof err.code === 'string' || typeof err.code === 'number') plain.code = err.code;
  if (err.cause !== undefined && depth < MAX_CAUSE_DEPTH) plain.cause = toPlain(err.cause, depth + 1);
  return plain;
}

/** @param {unknown} value */
function safeString(value) {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * An error of plugd's own (named PlugdError, the code kept out of the message): the host
 * rebuilds it as a PlugdError, where a plugin's own error is wrapped.
 * @param {string} code @param {string} message @param {unknown} [cause]
 */
function codedError(code, message, cause) {
  const error = Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
  error.name = 'PlugdError';
  return error;
}

// pino's levels; ctx.log writes one line per record to stdout (below warn) or stderr, which the
// log pump frames, rate-limits and tags with { plugin, instance, stream }.
const LEVELS = /** @type {const} */ ({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 });

/**
 * A logger with pino's level methods: `log.info('text %s', x)` or `log.info({ field }, 'text')`.
 * @typedef {{ [K in keyof typeof LEVELS]: (...args: unknown[]) => void } & { level: string, child: (bindings: object) => PluginLog }} PluginLog
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

/** @param {unknown} def @param {IsolatedInit} init @returns {PluginDefinition} */
function checkDefinition(def, init) {
  const where = `plugin "${init.name}" (${init.entry})`;
  if (typeof def !== 'object' || def === null)
    throw codedError('PLUGD_E_ACTIVATION', `${where} must export default { activate, methods, deactivate }`);
  const d = /** @type {Record<string, unknown>} */ (def);
  for (const hook of ['activate', 'deactivate']) {
    if (d[hook] !== undefined && typeof d[hook] !== 'function')
      throw codedError('PLUGD_E_ACTIVATION', `${where}: "${hook}" must be a function`);
  }
  if (d.methods !== undefined && (typeof d.methods !== 'object' || d.methods === null)) {
    throw codedError('PLUGD_E_ACTIVATION', `${where}: "methods" must be an object of functions`);
  }
  return /** @type {PluginDefinition} */ (def);
}

/** @param {IsolatedInit} init @returns {Promise<string[]>} */
async function activate(init) {
  if (data) throw codedError('PLUGD_E_ACTIVATION', `this process already runs plugin "${data.name}"`);
  data = init;
  process.argv.push(...init.args);
  let mod;
  try {
    mod = await import(pathToFileURL(init.entry).href);
  } catch (e) {
    throw codedError(
      'PLUGD_E_ACTIVATION',
      `plugin "${init.name}": cannot load ${init.entry}: ${e instanceof Error ? e.message : String(e)}`,
      e,
    );
  }
  const def = checkDefinition(mod.default, init);
  ctx = Object.freeze({
    name: init.name,
    id: init.id,
    instance: init.instance,
    env: Object.freeze({ ...process.env }),
    args: [...init.args],
    dataDir: init.dataDir,
    log: createLog(init.logLevel, {}),
  });
  let answer;
  try {
    answer = def.activate ? await def.activate(ctx) : undefined;
  } catch (e) {
    throw codedError('PLUGD_E_ACTIVATION', `plugin "${init.name}": activate() threw: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  const list = /** @type {{ Implements?: unknown } | undefined} */ (answer)?.Implements;
  if (!Array.isArray(list) || !list.every((t) => typeof t === 'string')) {
    throw codedError(
      'PLUGD_E_ACTIVATION',
      `plugin "${init.name}": activate() must return { Implements: ["Capability", ...] } (Docker's Plugin.Activate answer)`,
    );
  }
  plugin = def;
  return [...list];
}

/** @param {string} method @param {unknown} args */
async function invoke(method, args) {
  if (!plugin || !ctx || !data) throw codedError('PLUGD_E_NOT_RUNNING', 'no plugin is activated in this process');
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

/** @param {number} id @param {string} method @param {unknown} args */
function answerCall(id, method, args) {
  invoke(method, args).then(
    (value) => {
      try {
        send(['reply', id, 0, value]);
      } catch (e) {
        const name = /** @type {IsolatedInit} */ (data).name;
        send([
          'reply',
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
    (e) => send(['reply', id, 1, toPlain(e)]),
  );
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
