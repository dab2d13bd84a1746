// What crosses the thread boundary between the supervisor and a plugin worker, declared once
// and imported by both sides (the worker side reads it through JSDoc types).
import type { MessagePort } from 'node:worker_threads';

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
/** The answer: the value, or the error in its plain form (error-transfer.mjs). */
export type CallReply = [id: number, failed: 0, value: unknown] | [id: number, failed: 1, error: unknown];

/** The API each plugin worker exposes over comlink (the control plane). */
export interface PluginWorkerApi {
  /** The handshake; a standby worker first receives its plugin in `init`. */
  activate(init?: PluginInit): Promise<ActivationResult>;
  deactivate(): Promise<void>;
}

