// What a failed call or handshake in Docker's protocol (process and discovered plugins) rejects
// with: the one place where the client's errors become PlugdErrors.
import { isErrorCode, PlugdError } from '../errors.js';
import type { HandshakeOutcome } from '../tasks/task-pool.js';

/**
 * The PlugdError for a failed call in Docker's protocol: a plugin's { Err } answer is wrapped
 * once (its message kept as the cause); plugd's own codes (PLUGD_E_METHOD for a 404, timeouts,
 * an unreachable socket) say which plugin, and keep what Node said as the cause.
 */
export function dockerCallError(name: string, method: string, e: unknown): PlugdError {
  if (e instanceof PlugdError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown }).code;
  if (code === 'PLUGD_E_METHOD') return new PlugdError(code, `plugin "${name}" has no method "${method}": ${message}`, { cause: e });
  if (code === 'PLUGD_E_PLUGIN_ERROR' || !isErrorCode(code)) {
    return new PlugdError('PLUGD_E_PLUGIN_ERROR', `plugin "${name}" method "${method}" failed: ${message}`, { cause: e });
  }
  return new PlugdError(code, `plugin "${name}": ${message}`, { cause: (e as Error).cause });
}

/**
 * The Implements of a handshake, or its PlugdError: PLUGD_E_ACTIVATION_TIMEOUT when its time ran
 * out, PLUGD_E_ACTIVATION otherwise (no Implements, an { Err } answer, a TLS refusal).
 */
export function handshakeResult(name: string, outcome: HandshakeOutcome): string[] {
  if (outcome.ok) return outcome.implements;
  if (outcome.code === 'PLUGD_E_ACTIVATION_TIMEOUT')
    throw new PlugdError('PLUGD_E_ACTIVATION_TIMEOUT', `plugin "${name}" did not activate in time: ${outcome.message}`);
  throw new PlugdError('PLUGD_E_ACTIVATION', `plugin "${name}": the handshake failed: ${outcome.message}`);
}
