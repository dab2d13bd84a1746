// A plugin module run by the worker contract (default export { activate, methods, deactivate }),
// the same whether it runs in a worker thread (plugin-worker.mjs) or in a process of its own
// (isolated-plugin.mjs): loading and checking it, its activation answer, its methods and the
// reply to each call. It imports only Node and plain-error.mjs: a confined plugin process may
// read it.
import { pathToFileURL } from 'node:url';
import { codedError, toPlain } from './plain-error.mjs';

/**
 * @template Ctx
 * @typedef {{
 *   activate?: (ctx: Ctx) => unknown,
 *   methods?: Record<string, (args: unknown, ctx: Ctx) => unknown>,
 *   deactivate?: (ctx: Ctx) => unknown
 * }} PluginDefinition
 */
/** @typedef {{ name: string, entry: string }} PluginSource */

/**
 * Loads the plugin's module and checks its default export. A module that cannot be found,
 * resolved or evaluated fails the activation with what Node said, once.
 * @param {PluginSource} source @returns {Promise<PluginDefinition<any>>}
 */
export async function loadPlugin(source) {
  let mod;
  try {
    mod = await import(pathToFileURL(source.entry).href);
  } catch (e) {
    throw codedError('PLUGD_E_ACTIVATION', `plugin "${source.name}": cannot load ${source.entry}: ${messageOf(e)}`, e);
  }
  return checkDefinition(mod.default, source);
}

/** @param {unknown} def @param {PluginSource} source @returns {PluginDefinition<any>} */
function checkDefinition(def, source) {
  const where = `plugin "${source.name}" (${source.entry})`;
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
  return /** @type {PluginDefinition<any>} */ (def);
}

/**
 * The ctx a plugin's activate(), methods and deactivate() receive: the instance, its env as the
 * process has it now, its args, and what the entry adds (`extra`, getters kept as getters).
 * @template {object} Extra
 * @param {{ name: string, id: string, instance: number, args: string[] }} init @param {Extra} extra
 */
export function pluginContext(init, extra) {
  const base = { name: init.name, id: init.id, instance: init.instance, env: Object.freeze({ ...process.env }), args: [...init.args] };
  return Object.freeze(/** @type {typeof base & Extra} */ (Object.defineProperties(base, Object.getOwnPropertyDescriptors(extra))));
}

/**
 * Runs the plugin's activate() and returns what it implements (Docker's Plugin.Activate answer).
 * An error it throws is the cause of a PLUGD_E_ACTIVATION.
 * @template Ctx
 * @param {PluginDefinition<Ctx>} def @param {Ctx} ctx @param {string} name @returns {Promise<string[]>}
 */
export async function activatePlugin(def, ctx, name) {
  let answer;
  try {
    answer = def.activate ? await def.activate(ctx) : undefined;
  } catch (e) {
    throw codedError('PLUGD_E_ACTIVATION', `plugin "${name}": activate() threw: ${messageOf(e)}`, e);
  }
  const list = /** @type {{ Implements?: unknown } | undefined} */ (answer)?.Implements;
  if (!Array.isArray(list) || !list.every((t) => typeof t === 'string')) {
    throw codedError(
      'PLUGD_E_ACTIVATION',
      `plugin "${name}": activate() must return { Implements: ["Capability", ...] } (Docker's Plugin.Activate answer)`,
    );
  }
  return [...list];
}

/**
 * Runs one method of an activated plugin; PLUGD_E_METHOD if it defines none by that name.
 * @template Ctx
 * @param {PluginDefinition<Ctx>} def @param {Ctx} ctx @param {string} name @param {string} method @param {unknown} args
 */
export async function invokeMethod(def, ctx, name, method, args) {
  const methods = def.methods ?? {};
  const fn = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (typeof fn !== 'function') {
    throw codedError(
      'PLUGD_E_METHOD',
      `plugin "${name}" has no method "${method}"; it defines: ${Object.keys(methods).join(', ') || '(none)'}`,
    );
  }
  return fn(args, ctx);
}

/**
 * Sends the outcome of a call with `reply(failed, payload)`: the value, or the error in its plain
 * form. A value that cannot be sent (`reply` throws) is answered with PLUGD_E_PLUGIN_ERROR.
 * @param {Promise<unknown>} outcome @param {string} name @param {string} method
 * @param {(failed: 0 | 1, payload: unknown) => void} reply
 */
export function replyWith(outcome, name, method, reply) {
  outcome.then(
    (value) => {
      try {
        reply(0, value);
      } catch (e) {
        const unsendable = codedError(
          'PLUGD_E_PLUGIN_ERROR',
          `plugin "${name}" method "${method}" returned a value that cannot be sent back to the host (it must be ` +
            `structured-cloneable): ${messageOf(e)}`,
        );
        reply(1, toPlain(unsendable));
      }
    },
    (e) => reply(1, toPlain(e)),
  );
}

/** @param {unknown} e */
function messageOf(e) {
  return e instanceof Error ? e.message : String(e);
}
