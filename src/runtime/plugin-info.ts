// The synchronous view of a plugin that `inspect()` and `list()` return, built from the plugin
// actor's snapshot, the store record and the instance's shared counters.
import type { ErrorInfo } from '../errors.js';
import { DROPPED_LINES, LOGGED_LINES } from '../isolation/wire-constants.mjs';
import type { PluginInstance } from '../isolation/plugin-instance.js';
import type { PluginContext } from '../../machines/plugin.machine.js';
import type { PluginStateName } from '../../machines/types.js';
import type { PluginRecord } from '../store/store.js';
import type { Manifest } from '../store/manifest.js';
import type { PluginSource } from '../store/registry/plugin-source.js';

export interface PluginInfo {
  id: string;
  name: string;
  version: string;
  kind: Manifest['kind'];
  /** One of the lifecycle's states: installed, enabled, activating, running, restarting, stopping, disabled, removed. */
  state: PluginStateName;
  /** What the user asked for (persisted); a plugin can be enabled and still restarting. */
  enabled: boolean;
  /** Restarts performed since it was last enabled. */
  restarts: number;
  /** Capabilities from the last successful handshake. */
  implements: string[];
  /** The last instance error (crash, hang, OOM, activation failure), kept after a give-up. */
  lastError: ErrorInfo | null;
  /** Why the restart policy gave up, if it did. */
  gaveUp: string | null;
  requires: string[];
  restartPolicy: string;
  /** The running instance's number and uptime, when there is one. */
  instance: { number: number; uptimeMs: number } | null;
  /** References taken with get(..., { acquire: true }) and not released. */
  inUse: number;
  logs: { lines: number; dropped: number };
  /** Where a plugin installed from the npm registry came from: `{ spec, resolved, integrity }`; null otherwise. */
  source: PluginSource | null;
}

export interface LogCounters {
  lines: number;
  dropped: number;
}

/** Adds a finished instance's counters to a plugin's running total. */
export function addCounters(total: LogCounters, slots: Int32Array): LogCounters {
  return { lines: total.lines + Atomics.load(slots, LOGGED_LINES), dropped: total.dropped + Atomics.load(slots, DROPPED_LINES) };
}

export function describePlugin(
  record: PluginRecord,
  state: PluginStateName,
  context: PluginContext | undefined,
  instance: PluginInstance | undefined,
  totals: LogCounters,
  inUse: number,
): PluginInfo {
  const { manifest } = record;
  const live = instance?.running ? instance : undefined;
  const restart = manifest.restart;
  return {
    id: record.id,
    name: manifest.name,
    version: manifest.version,
    kind: manifest.kind,
    state,
    enabled: record.settings.enabled,
    restarts: context?.restarts ?? 0,
    implements: state === 'running' ? [...(context?.implements ?? [])] : [],
    lastError: context?.lastError ?? null,
    gaveUp: context?.gaveUp ?? null,
    requires: [...manifest.requires],
    restartPolicy: restart.maxRetries === undefined ? restart.policy : `${restart.policy}:${restart.maxRetries}`,
    instance: live ? { number: live.instance, uptimeMs: live.uptimeMs } : null,
    inUse,
    logs: live ? addCounters(totals, live.slots) : { ...totals },
    source: record.source ? { ...record.source } : null,
  };
}
