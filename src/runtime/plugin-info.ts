// The synchronous view of a plugin that `inspect()` and `list()` return, built from its entry:
// the plugin actor's snapshot, the record and the instance's shared counters.
import type { ErrorInfo } from '../errors.js';
import { pluginStateOf } from '../../machines/plugin.machine.js';
import type { PluginStateName } from '../../machines/types.js';
import type { Manifest } from '../store/manifest.js';
import type { PluginSource } from '../store/registry/plugin-source.js';
import type { PluginEntry } from './plugin-entry.js';

export type { LogCounters } from './plugin-entry.js';

export interface PluginInfo {
  id: string;
  name: string;
  version: string;
  kind: Manifest['kind'];
  /** One of the lifecycle's states: installed, enabled, activating, running, restarting, stopping, disabled, removed. */
  state: PluginStateName;
  /** A lazy plugin that is `enabled` without an instance, waiting for its next call. */
  idle: boolean;
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

export function describePlugin(entry: PluginEntry): PluginInfo {
  const { record } = entry;
  const { manifest } = record;
  const snapshot = entry.actor?.getSnapshot();
  const state = snapshot ? pluginStateOf(snapshot) : 'removed';
  const context = snapshot?.context;
  const live = entry.instance?.running ? entry.instance : undefined;
  const restart = manifest.restart;
  return {
    id: record.id,
    name: manifest.name,
    version: manifest.version,
    kind: manifest.kind,
    state,
    idle: snapshot?.hasTag('idle') ?? false,
    enabled: record.settings.enabled,
    restarts: context?.restarts ?? 0,
    implements: state === 'running' ? [...(context?.implements ?? [])] : [],
    lastError: context?.lastError ?? null,
    gaveUp: context?.gaveUp ?? null,
    requires: [...manifest.requires],
    restartPolicy: restart.maxRetries === undefined ? restart.policy : `${restart.policy}:${restart.maxRetries}`,
    instance: live ? { number: live.instance, uptimeMs: live.uptimeMs } : null,
    inUse: entry.references,
    logs: entry.logCounters(),
    source: record.source ? { ...record.source } : null,
  };
}

/** The facts of `entries`, optionally filtered, by name. */
export function describePlugins(entries: PluginEntry[], filter: { capability?: string; enabled?: boolean }): PluginInfo[] {
  const infos: PluginInfo[] = [];
  for (const entry of entries) {
    const { record } = entry;
    if (filter.enabled !== undefined && record.settings.enabled !== filter.enabled) continue;
    const info = describePlugin(entry);
    if (
      filter.capability !== undefined &&
      !info.implements.includes(filter.capability) &&
      !record.manifest.interface.types.includes(filter.capability)
    )
      continue;
    infos.push(info);
  }
  return infos.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
