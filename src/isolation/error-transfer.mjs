// Errors across the thread boundary. Comlink's own "throw" handler keeps only { name, message,
// stack } (comlink #594); this one, registered on both sides, also keeps `code`, `details` and a
// chain of `cause`. The call channel sends the same plain form.
import { transferHandlers } from 'comlink/dist/esm/comlink.mjs';

const MAX_CAUSE_DEPTH = 4;

/**
 * @typedef {{ name: string, message: string, stack?: string, code?: unknown, details?: unknown, cause?: PlainError }} PlainError
 */

/**
 * The cloneable form of a thrown value: keeps name, message, stack, code, details and causes.
 * @param {unknown} value @param {number} depth @returns {PlainError}
 */
export function toPlain(value, depth = 0) {
  if (!(value instanceof Error)) return { name: 'Error', message: typeof value === 'string' ? value : safeString(value) };
  const err = /** @type {Error & { code?: unknown, details?: unknown }} */ (value);
  /** @type {PlainError} */
  const plain = { name: err.name, message: err.message };
  if (err.stack !== undefined) plain.stack = err.stack;
  if (typeof err.code === 'string' || typeof err.code === 'number') plain.code = err.code;
  if (err.details !== undefined) {
    try {
      plain.details = structuredClone(err.details);
    } catch {
      /* not cloneable: left out */
    }
  }
  if (err.cause !== undefined && depth < MAX_CAUSE_DEPTH) plain.cause = toPlain(err.cause, depth + 1);
  return plain;
}

/** @param {PlainError} plain @returns {Error} */
export function fromPlain(plain) {
  const err = /** @type {Error & { code?: unknown, details?: unknown }} */ (
    new Error(plain.message, plain.cause ? { cause: fromPlain(plain.cause) } : undefined)
  );
  err.name = plain.name;
  if (plain.stack !== undefined) err.stack = plain.stack;
  if (plain.code !== undefined) err.code = plain.code;
  if (plain.details !== undefined) err.details = plain.details;
  return err;
}

/** @param {unknown} value */
function safeString(value) {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

let registered = false;

/** Installs the handler in this thread's comlink (idempotent). */
export function registerErrorTransfer() {
  if (registered) return;
  registered = true;
  const builtin = transferHandlers.get('throw');
  if (!builtin) throw new Error('comlink has no "throw" transfer handler to replace');
  transferHandlers.set('throw', {
    canHandle: builtin.canHandle,
    serialize(/** @type {any} */ thrown) {
      return [toPlain(thrown.value), []];
    },
    deserialize(/** @type {any} */ plain) {
      throw fromPlain(plain);
    },
  });
}
