// Errors of the boundary between the host and a plugin's thread or process, as the host sees
// them: those that come back, rebuilt from their plain form (entry/plain-error.mjs) as a
// PlugdError wherever plugd raised one there, a failed call's error wrapped once, and arguments
// that cannot cross. Worker plugins (comlink and the call channel) and plugins in a process of
// their own (IPC) share them.
import { isErrorCode, PlugdError, withoutCode } from '../errors.js';
import type { PlainError } from './entry/plain-error.mjs';
import { registerErrorTransfer } from './error-transfer.mjs';

/**
 * The error a plain form stands for: a PlugdError (code, message, details, its causes rebuilt
 * too) when plugd raised it on the other side, else an Error with the name, message, stack, code
 * and details it had there.
 */
export function errorFromPlain(plain: PlainError): Error {
  const cause = plain.cause === undefined ? undefined : { cause: errorFromPlain(plain.cause) };
  if (plain.name === 'PlugdError' && isErrorCode(plain.code)) {
    const details = typeof plain.details === 'object' && plain.details !== null ? (plain.details as Record<string, unknown>) : undefined;
    return new PlugdError(plain.code, withoutCode(plain.message), { ...cause, details });
  }
  const error = new Error(plain.message, cause) as Error & { code?: string | number; details?: unknown };
  error.name = plain.name;
  if (plain.stack !== undefined) error.stack = plain.stack;
  if (plain.code !== undefined) error.code = plain.code;
  if (plain.details !== undefined) error.details = plain.details;
  return error;
}

/** comlink on the host rebuilds what a plugin worker's control plane throws with errorFromPlain. */
export function registerHostErrorTransfer(): void {
  registerErrorTransfer(errorFromPlain);
}

/**
 * What a failed method call rejects with: plugd's own errors from the other side (PLUGD_E_METHOD...)
 * as they are, a plugin's error wrapped once in PLUGD_E_PLUGIN_ERROR. A plugin cannot pass off
 * its error as the host's PLUGD_E_PROTOCOL, which only the host raises.
 */
export function callError(name: string, method: string, plain: PlainError): PlugdError {
  const e = errorFromPlain(plain);
  if (e instanceof PlugdError && e.code !== 'PLUGD_E_PROTOCOL') return e;
  return new PlugdError('PLUGD_E_PLUGIN_ERROR', `plugin "${name}" method "${method}" failed: ${e.message}`, { cause: e });
}

/** What a call rejects with when its arguments cannot be sent to `where` ('a worker plugin'...). */
export function unsendableArguments(name: string, method: string, where: string, e: unknown): PlugdError {
  const why = e instanceof Error ? e.message : String(e);
  return new PlugdError(
    'PLUGD_E_CALL',
    `plugin "${name}": the arguments of "${method}" cannot be sent to ${where} (they must be structured-cloneable): ${why}`,
    { cause: e },
  );
}
