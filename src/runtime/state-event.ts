// What `sup.on('state')` listeners receive for a state change of a plugin actor, and the host
// log line that goes with it.
import type { Logger } from 'pino';
import type { StateChange } from '../../machines/supervisor.machine.js';
import type { PluginStateName } from '../../machines/types.js';
import type { ErrorInfo } from '../errors.js';

/** Emitted on every plugin state change. */
export interface StateEvent {
  name: string;
  from: PluginStateName | null;
  to: PluginStateName;
  /** Epoch milliseconds. */
  at: number;
  /** The error that caused this change: set on a failure (to restarting, or a give-up), else null. */
  error: ErrorInfo | null;
  restarts: number;
}

/** The plugin's report, as the supervisor announced it, stamped with the time. */
export function toStateEvent(change: StateChange): StateEvent {
  return { name: change.name, from: change.from, to: change.to, at: Date.now(), error: change.error, restarts: change.restarts };
}

/** One host log line per change: a warning when it carries an error. */
export function logStateEvent(log: Logger, event: StateEvent, instance: number): void {
  const fields = { plugin: event.name, instance, from: event.from, to: event.to };
  const text = `${event.name}: ${event.from} -> ${event.to}${event.to === 'disabled' && event.error ? ' (gave up)' : ''}`;
  if (event.error) log.warn({ ...fields, code: event.error.code }, `${text}: ${event.error.message}`);
  else log.info(fields, text);
}
