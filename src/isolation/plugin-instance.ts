// What every running incarnation of a plugin offers the supervisor, whether it is a worker
// thread (WorkerInstance), a child process speaking Docker's protocol (ProcessInstance) or a
// connection to a plugin someone else runs (ExternalInstance).
import type { ExitReason, InstanceExit } from '../../machines/types.js';
import type { HangReason } from './hang-verdict.js';
import type { ActivationResult } from './protocol.js';

export interface PluginInstance {
  readonly kind: 'worker' | 'process' | 'container' | 'external';
  readonly name: string;
  readonly instance: number;
  /** Log counters (and, for workers, the heartbeat), laid out by wire-constants.mjs. */
  readonly slots: Int32Array;
  /** Settles once, when the instance has ended for whatever reason. */
  readonly exited: Promise<InstanceExit>;
  /** Settles once the thread or process has started (or has ended before). */
  readonly booted: Promise<void>;
  readonly running: boolean;
  readonly uptimeMs: number;
  /** The handshake (Docker's Plugin.Activate); ends the instance if it fails. */
  activate(): Promise<ActivationResult>;
  /** One method call; rejects rather than hangs when the instance ends or times out. */
  call(method: string, args: unknown, timeoutMs: number): Promise<unknown>;
  /** Graceful stop within graceMs, then forced. */
  stop(graceMs: number): Promise<void>;
  /** Ends the instance now, without waiting on the OS. */
  kill(reason: ExitReason, cause?: unknown): void;
}

/** An instance whose health is asked over its socket (process and external plugins). */
export interface ProbedInstance extends PluginInstance {
  /** True when the plugin answers a handshake; false, or why (hang-verdict.ts), when it is hung. */
  probe(): Promise<boolean | HangReason>;
}
