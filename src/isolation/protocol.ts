// What crosses the thread boundary between the supervisor and a plugin worker, declared once
// and imported by both sides (the worker side reads it through JSDoc types).
import type { MessagePort } from 'node:worker_threads';
import { isPlainError, type PlainError } from './entry/plain-error.mjs';

/** A plugin worker's workerData. A standby worker (warm pool) starts with no plugin. */
export interface WorkerBoot {
  /** Nice value the worker gives its own thread (Linux), so the host's main thread comes first. */
  nice: number;
  /** The plugin to run; null for a standby worker, which receives it with activate(init). */
  init: PluginInit | null;
}

/** What a worker needs to run one plugin instance. */
export interface PluginInit {
  name: string;
  id: string;
  instance: number;
  /** Absolute path of the plugin's entry module. */
  entry: string;
  args: string[];
  /** The plugin's whole environment (a standby worker starts with an empty one). */
  env: Record<string, string>;
  /** Int32Array slots laid out by wire-constants.mjs. */
  heartbeat: SharedArrayBuffer;
  heartbeatMs: number;
  /** Where the plugin's log lines go: the log pump holds the other end. */
  logPort: MessagePort;
  /** The call channel (data plane): CallRequest in, CallReply out. */
  callPort: MessagePort;
  log: PluginLogLimits;
}

export interface PluginLogLimits {
  level: string;
  /** Lines per second a plugin may log; a flood beyond it is dropped and counted. */
  ratePerSec: number;
  /** Lines a plugin may log at once before the rate applies. */
  burst: number;
}

export interface ActivationResult {
  implements: string[];
}

/**
 * A method call on the call channel. Calls bypass comlink: measured here, comlink's per-call
 * work (uuid, proxies, wire values) held calls to ~0.3× of raw postMessage round trips.
 */
export type CallRequest = [id: number, method: string, args: unknown];
/** The answer: the value, or the error in its plain form (entry/plain-error.mjs). */
export type CallReply = [id: number, failed: 0, value: unknown] | [id: number, failed: 1, error: PlainError];

/** The API each plugin worker exposes over comlink: the whole control plane. */
export interface PluginWorkerApi {
  /** Answers once the entry has loaded: a standby thread (warm pool) is then ready for a plugin. */
  ready(): void;
  /** The handshake; a standby worker first receives its plugin in `init`. */
  activate(init?: PluginInit): Promise<ActivationResult>;
  deactivate(): Promise<void>;
}

// Checks of what a plugin thread sends back. The plugin's code shares the thread with plugd's
// entry and can post anything on any port it reaches: a message that fails these checks ends
// that instance (PLUGD_E_PROTOCOL), and never reaches code that would throw on it.

/** A CallReply to a call that was made (ids up to `lastId`). */
export function isCallReply(message: unknown, lastId: number): message is CallReply {
  if (!Array.isArray(message) || message.length !== 3) return false;
  const [id, failed, payload] = message as unknown[];
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1 || id > lastId) return false;
  return failed === 0 || (failed === 1 && isPlainError(payload));
}

/**
 * A comlink reply of the control plane: `{ id, type: 'RAW', value }`, or a thrown error as
 * `{ id, type: 'HANDLER', name: 'throw', value: PlainError }` (error-transfer.mjs). A plugin
 * worker returns no proxies.
 */
export function isControlReply(message: unknown): message is { id: string } {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
  const m = message as Record<string, unknown>;
  if (typeof m.id !== 'string' || m.id.length === 0) return false;
  if (m.type === 'RAW') return true;
  return m.type === 'HANDLER' && m.name === 'throw' && isPlainError(m.value);
}
