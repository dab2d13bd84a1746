// The one error transfer of the control plane: comlink's "throw" handler, replaced on both sides
// of a plugin worker. comlink's own keeps only { name, message, stack } (comlink #594); this one
// sends the PlainError form (entry/plain-error.mjs: code, details and causes too), and the
// receiving side rebuilds it with its own `rebuild` (the host: a PlugdError for plugd's codes).
import { transferHandlers } from 'comlink/dist/esm/comlink.mjs';
import { toPlain } from './entry/plain-error.mjs';

/** @typedef {import('./entry/plain-error.mjs').PlainError} PlainError */
/** @typedef {import('comlink/dist/esm/comlink.mjs').TransferHandler<{ value: unknown }, PlainError>} ErrorTransfer */

/** comlink's own "throw" handler: it alone knows comlink's private mark of a thrown value. */
const builtin = transferHandlers.get('throw');

/**
 * comlink's "throw" handler with plugd's error form.
 * @param {(plain: PlainError) => Error} rebuild @returns {ErrorTransfer}
 */
export function errorTransfer(rebuild) {
  if (!builtin) throw new Error('comlink has no "throw" transfer handler to replace');
  return {
    canHandle: /** @type {ErrorTransfer['canHandle']} */ (builtin.canHandle),
    serialize: ({ value }) => [toPlain(value), []],
    deserialize: (plain) => {
      throw rebuild(plain);
    },
  };
}

let registered = false;

/**
 * Installs the handler in this thread's comlink, once. The host passes its `rebuild`; a plugin
 * worker only sends errors, and keeps the default (an Error with the plain form's fields).
 * @param {(plain: PlainError) => Error} [rebuild]
 */
export function registerErrorTransfer(rebuild = (plain) => Object.assign(new Error(plain.message), plain)) {
  if (registered) return;
  registered = true;
  transferHandlers.set('throw', /** @type {any} */ (errorTransfer(rebuild)));
}
