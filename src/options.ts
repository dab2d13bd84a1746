// The supervisor's options: their defaults and their validation at the public boundary.
import type { Logger } from 'pino';
import type { InspectionEvent, Observer } from 'xstate';
import { PlugdError } from './errors.js';
import { defaultMaxConcurrentStarts } from './isolation/semaphore.js';
import { mutedLogger, stderrLogger } from './logs/stderr-logger.js';
import { resolveControl, type ControlListen, type ControlOption } from './control/control-options.js';
import type { BackoffConfig, IntensityConfig } from '../machines/types.js';

export interface SupervisorOptions {
  /** The store's folder; created if missing. */
  root: string;
  /**
   * The host's pino logger; plugd logs under a child `{ component: 'plugd' }`. Default: nothing on
   * stdout, and warnings and errors (a watchdog kill, a crash, a give-up, a corrupt store record)
   * as one readable line each on stderr. `false`: nothing at all (state events still tell all).
   */
  logger?: Logger | false;
  /** XState's inspect option, passed to the actor system (works with @statelyai/inspect). */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** How long activate() may take. Default 10 s. */
  activationTimeoutMs?: number;
  /** How long a plugin's event loop may stay blocked before it is terminated. Default 1 s. */
  watchdogMs?: number;
  /** How long a call may take. Default 30 s. */
  callTimeoutMs?: number;
  /** Heap cap of each plugin worker (resourceLimits.maxOldGenerationSizeMb). Default 128. */
  memoryLimitMb?: number;
  /** How long deactivate() may take on disable or close before the worker is terminated. Default 5 s. */
  stopTimeoutMs?: number;
  /**
   * Restart backoff and intensity for every plugin. By default the first restart of a series is
   * immediate (`backoff.firstMs` 0, as OTP and PM2 restart), the n-th consecutive one waits
   * 100 ms × 2^(n−1) up to 60 s (Docker's series from its second step), and more than 10
   * restarts within 60 s give up (OTP's intensity). Setting `backoff.initialMs` alone makes the
   * first restart wait it too (Docker's series from its start). `jitter` (default 0.25)
   * lengthens each delay by up to that fraction, at random, so plugins that failed together do
   * not all restart in the same tick.
   */
  restart?: { backoff?: Partial<BackoffConfig>; intensity?: Partial<IntensityConfig>; jitter?: number };
  logs?: {
    /** Lines kept in memory per plugin for `logs()`. Default 1000. */
    keepLines?: number;
    /** Size at which a plugin's log file is rotated. Default 5 MiB. */
    maxFileBytes?: number;
    /** Lines per second a plugin may log before lines are dropped and counted. Default 1000. */
    ratePerSec?: number;
    /** Lines a plugin may log in a burst. Default 2000. */
    burst?: number;
    /** pino level inside plugins. Default "info". */
    level?: string;
  };
  /** Activate plugins that were enabled when the host last ran. Default true. */
  restore?: boolean;
  /**
   * Standby plugin threads kept started, so an enable skips the thread start; refilled in the
   * background. Default 0 (no idle threads unless the host asks).
   */
  warmWorkers?: number;
  /** Nice value (0–19) each plugin thread gives itself on Linux, so the host comes first. Default 10. */
  pluginNice?: number;
  /**
   * Node flags for plugin threads. Default []: a plugin does not inherit the host's flags and
   * loaders (under `--import tsx` every thread would load tsx, ~90 ms each). Pass
   * `['--import', 'tsx']` to run TypeScript entrypoints.
   */
  pluginExecArgv?: string[];
  /**
   * Plugin threads allowed to boot at once; the others queue (not counted against their
   * activation timeout). Default: the core count, from 2 to 8.
   */
  maxConcurrentStarts?: number;
  /**
   * Files, folders and links a bundle (folder or archive) may hold; a bigger one is refused with
   * PLUGD_E_BUNDLE before it is copied. Default 10,000.
   */
  maxBundleEntries?: number;
  /**
   * Where plugins with `"docker": { "publish": true }` get their socket linked as `<name>.sock`
   * while they run, for dockerd's legacy plugin discovery. Default `/run/docker/plugins`.
   */
  dockerPluginsDir?: string;
  /**
   * How long one request to the npm registry may take (`install('npm:…')`, `upgrade()`) before
   * it is refused with PLUGD_E_REGISTRY. Default 30 s.
   */
  registryTimeoutMs?: number;
  /**
   * Serve the control API (what `plugd` talks to): `true` on `<root>/plugd.sock`, `{ socket }`
   * on another path, or `{ host: '127.0.0.1', port, token }` on loopback TCP with a bearer token.
   * Default: off.
   */
  control?: ControlOption;
}

export type ResolvedOptions = Required<Omit<SupervisorOptions, 'logger' | 'inspect' | 'restart' | 'logs' | 'control'>> & {
  control: ControlListen | null;
  logger: Logger;
  inspect: SupervisorOptions['inspect'];
  restart: { backoff?: Partial<BackoffConfig>; intensity?: Partial<IntensityConfig> };
  restartJitter: number;
  logs: Required<NonNullable<SupervisorOptions['logs']>>;
};

function wholeInRange(options: Record<string, unknown>, name: string, fallback: number, max: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new PlugdError('PLUGD_E_OPTION', `option "${name}" must be a whole number from 0 to ${max}, got ${JSON.stringify(value)}`, {
      details: { option: name },
    });
  }
  return value;
}

function wholeAtLeastOne(options: Record<string, unknown>, name: string, fallback: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new PlugdError('PLUGD_E_OPTION', `option "${name}" must be a whole number ≥ 1, got ${JSON.stringify(value)}`, {
      details: { option: name },
    });
  }
  return value;
}

function stringList(options: Record<string, unknown>, name: string): string[] {
  const value = options[name];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new PlugdError('PLUGD_E_OPTION', `option "${name}" must be an array of strings`, { details: { option: name } });
  }
  return [...value];
}

function absolutePath(options: Record<string, unknown>, name: string, fallback: string): string {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw new PlugdError('PLUGD_E_OPTION', `option "${name}" must be an absolute folder path, got ${JSON.stringify(value)}`, {
      details: { option: name },
    });
  }
  return value;
}

function fraction(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new PlugdError('PLUGD_E_OPTION', `option "${name}" must be a number from 0 to 1, got ${JSON.stringify(value)}`, {
      details: { option: name },
    });
  }
  return value;
}

function positive(options: Record<string, unknown>, name: string, fallback: number, path = name): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new PlugdError('PLUGD_E_OPTION', `option "${path}" must be a positive number, got ${JSON.stringify(value)}`, {
      details: { option: path },
    });
  }
  return value;
}

function resolveLogger(logger: unknown): Logger {
  if (logger === undefined) return stderrLogger();
  if (logger === false) return mutedLogger();
  const methods = ['child', 'error', 'warn', 'info', 'debug'] as const;
  if (
    typeof logger !== 'object' ||
    logger === null ||
    !methods.every((m) => typeof (logger as Record<string, unknown>)[m] === 'function')
  ) {
    throw new PlugdError('PLUGD_E_OPTION', 'option "logger" must be a pino logger, or false for no log at all', {
      details: { option: 'logger' },
    });
  }
  return logger as Logger;
}

/** Fills in defaults; throws PLUGD_E_OPTION naming the first bad option. */
export function resolveOptions(options: SupervisorOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new PlugdError('PLUGD_E_OPTION', 'createSupervisor() needs an options object with at least { root }', {
      details: { option: '(options)' },
    });
  }
  if (typeof options.root !== 'string' || options.root === '') {
    throw new PlugdError('PLUGD_E_OPTION', 'option "root" must be the path of the store folder', { details: { option: 'root' } });
  }
  const o = options as unknown as Record<string, unknown>;
  const logs = (options.logs ?? {}) as Record<string, unknown>;
  const level = logs.level ?? 'info';
  if (typeof level !== 'string')
    throw new PlugdError('PLUGD_E_OPTION', 'option "logs.level" must be a pino level name', { details: { option: 'logs.level' } });
  return {
    root: options.root,
    logger: resolveLogger(options.logger),
    inspect: options.inspect,
    activationTimeoutMs: positive(o, 'activationTimeoutMs', 10_000),
    watchdogMs: positive(o, 'watchdogMs', 1_000),
    callTimeoutMs: positive(o, 'callTimeoutMs', 30_000),
    memoryLimitMb: positive(o, 'memoryLimitMb', 128),
    stopTimeoutMs: positive(o, 'stopTimeoutMs', 5_000),
    restart: { backoff: options.restart?.backoff, intensity: options.restart?.intensity },
    restartJitter: fraction(options.restart?.jitter, 'restart.jitter', 0.25),
    restore: options.restore ?? true,
    warmWorkers: wholeInRange(o, 'warmWorkers', 0, 10_000),
    pluginNice: wholeInRange(o, 'pluginNice', 10, 19),
    pluginExecArgv: stringList(o, 'pluginExecArgv'),
    maxConcurrentStarts: positive(o, 'maxConcurrentStarts', defaultMaxConcurrentStarts()),
    maxBundleEntries: wholeAtLeastOne(o, 'maxBundleEntries', 10_000),
    dockerPluginsDir: absolutePath(o, 'dockerPluginsDir', '/run/docker/plugins'),
    registryTimeoutMs: positive(o, 'registryTimeoutMs', 30_000),
    control: resolveControl(options.control, options.root),
    logs: {
      keepLines: positive(logs, 'keepLines', 1_000, 'logs.keepLines'),
      maxFileBytes: positive(logs, 'maxFileBytes', 5 * 1024 * 1024, 'logs.maxFileBytes'),
      ratePerSec: positive(logs, 'ratePerSec', 1_000, 'logs.ratePerSec'),
      burst: positive(logs, 'burst', 2_000, 'logs.burst'),
      level,
    },
  };
}
