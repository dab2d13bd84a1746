// Events and facts the machines share with the runtime that provides their actors.

/** An error as it crosses a thread boundary or sits in a snapshot: its stable code and message. */
export interface ErrorInfo {
  code: string;
  message: string;
  /** The error's extra facts, when it has any (a hung verdict's reason...). */
  details?: Record<string, unknown>;
  /** What caused it, when that was an error of its own (what a plugin's activate() threw...). */
  cause?: { name: string; message: string; code?: string };
}

/** Docker's four restart policies. */
export type RestartPolicyName = 'no' | 'always' | 'on-failure' | 'unless-stopped';

/** Why an instance ended. `stopped` is the only one a user asked for. */
export type ExitReason = 'exit' | 'crash' | 'hung' | 'oom' | 'activation-failed' | 'activation-timeout' | 'stopped';

export interface InstanceExit {
  reason: ExitReason;
  /** The worker's exit code, when it exited by itself. */
  code: number | null;
  error: ErrorInfo | null;
  uptimeMs: number;
}

export interface BackoffConfig {
  /**
   * The delay of the first restart of a series (after the first failure, or the first since an
   * instance ran resetAfterMs): 0, at once, as OTP and PM2 restart. Defaults to initialMs when
   * initialMs is given, so that a configured initialMs keeps Docker's series.
   */
  firstMs: number;
  /** The n-th consecutive restart (n ≥ 2) waits initialMs × factor^(n−1) (Docker: 100 ms). */
  initialMs: number;
  /** Upper bound of the delay (Docker: 60 s). */
  maxMs: number;
  factor: number;
  /** An instance that ran this long resets the backoff (Docker: 10 s). */
  resetAfterMs: number;
}

export interface IntensityConfig {
  /** More than this many restarts within periodMs gives up (OTP's intensity). */
  maxRestarts: number;
  periodMs: number;
}

export interface RestartPolicyInput {
  policy: RestartPolicyName;
  maxRetries?: number;
  backoff?: Partial<BackoffConfig>;
  intensity?: Partial<IntensityConfig>;
}

export const DEFAULT_BACKOFF: BackoffConfig = { firstMs: 0, initialMs: 100, maxMs: 60_000, factor: 2, resetAfterMs: 10_000 };
export const DEFAULT_INTENSITY: IntensityConfig = { maxRestarts: 10, periodMs: 60_000 };

/** The states of a plugin: the public contract. */
export const PLUGIN_STATES = ['installed', 'enabled', 'activating', 'running', 'restarting', 'stopping', 'disabled', 'removed'] as const;
export type PluginStateName = (typeof PLUGIN_STATES)[number];

/**
 * Tags of the plugin machine's states: each public state is tagged with its name, and
 * `atRest` (no instance, none wanted: operations that replace or drop a record may run) and
 * `live` (an instance exists: activating, running or stopping) group them; `idle` marks a lazy
 * plugin that is `enabled` and waits for its first call.
 */
export type PluginTag = PluginStateName | 'atRest' | 'live' | 'idle';

/** The answers a restart-policy actor sends its parent. */
export type PolicyAnswer = { type: 'RESTART'; delayMs: number } | { type: 'GIVE_UP'; why: string };
