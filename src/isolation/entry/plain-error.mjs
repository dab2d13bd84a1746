// An error in the one form it takes across every plugin boundary: comlink's control plane and
// the call channel of a worker plugin, the IPC channel of a plugin in its own process. Both
// entries and the host import this file; it imports nothing, so a plugin process confined by
// the permission model may read it.

const MAX_CAUSE_DEPTH = 4;

/**
 * @typedef {{ name: string, message: string, stack?: string, code?: string | number, details?: unknown, cause?: PlainError }} PlainError
 */

/**
 * The cloneable form of a thrown value: name, message, stack, code, details and causes.
 * @param {unknown} value @param {number} [depth] @returns {PlainError}
 */
export function toPlain(value, depth = 0) {
  if (!(value instanceof Error)) return { name: 'Error', message: typeof value === 'string' ? value : safeString(value) };
  const err = /** @type {Error & { code?: unknown, details?: unknown }} */ (value);
  /** @type {PlainError} */
  const plain = { name: String(err.name), message: String(err.message) };
  if (typeof err.stack === 'string') plain.stack = err.stack;
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

/**
 * Whether a value that came from a plugin is a PlainError (it is checked before use: the plugin's
 * code can post anything).
 * @param {unknown} value @param {number} [depth] @returns {value is PlainError}
 */
export function isPlainError(value, depth = 0) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const e = /** @type {Record<string, unknown>} */ (value);
  return (
    typeof e.name === 'string' &&
    typeof e.message === 'string' &&
    (e.stack === undefined || typeof e.stack === 'string') &&
    (e.code === undefined || typeof e.code === 'string' || typeof e.code === 'number') &&
    (e.cause === undefined || (depth < MAX_CAUSE_DEPTH && isPlainError(e.cause, depth + 1)))
  );
}

/**
 * An error of plugd's own, raised inside a plugin's thread or process: named PlugdError, its code
 * kept out of the message. The host rebuilds it as a PlugdError; a plugin's own error is wrapped.
 * @param {string} code @param {string} message @param {unknown} [cause]
 */
export function codedError(code, message, cause) {
  const error = Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
  error.name = 'PlugdError';
  return error;
}

/** Any value as text, for a message or a log line. @param {unknown} value */
export function safeString(value) {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
