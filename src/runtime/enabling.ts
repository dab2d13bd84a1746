// Enabling a plugin as the runtime runs it: the plugins it requires first, a stopping one left to
// finish its stop, the enabled flags written while the plugins activate; and a restart.
import { withDependencies } from '../../machines/dependency-graph.js';
import { PlugdError } from '../errors.js';
import type { SettingsWriter } from '../store/settings-writer.js';
import type { PluginActors } from './plugin-actors.js';
import type { PluginEntries } from './plugin-entries.js';
import type { PluginEntry } from './plugin-entry.js';

/** What an enable needs from the supervisor. */
export interface EnableHost {
  entries: PluginEntries;
  actors: PluginActors;
  settings: SettingsWriter;
  /** Throws PLUGD_E_CLOSED once the supervisor is closing. */
  assertOpen(): void;
}

/** See Supervisor.enable. */
export async function enableWithRequires(entry: PluginEntry, host: EnableHost): Promise<void> {
  const order = withDependencies(host.entries.requiresMap(), entry.name);
  const missing = order.filter((n) => !host.entries.get(n));
  if (missing.length > 0) {
    throw new PlugdError(
      'PLUGD_E_DEPENDENCY',
      `plugin "${entry.name}" requires ${missing.map((m) => `"${m}"`).join(', ')}, which ` +
        `${missing.length > 1 ? 'are' : 'is'} not installed`,
    );
  }
  const stops = host.actors.afterStops(order);
  if (stops) {
    await stops;
    host.assertOpen();
  }
  const running = host.actors.whenRunning(entry.name, order);
  // The enabled flags are written while the plugins activate: an fsync per plugin must not
  // delay every activation behind it.
  const toPersist = order.map((n) => host.entries.get(n)!).filter((e) => !e.record.settings.enabled);
  const persisted = Promise.all(toPersist.map((r) => host.settings.write(r, { enabled: true })));
  for (const name of order) host.actors.enable(name);
  // `running` may settle while the flags are written (a close, a failed activation): it is
  // awaited below, so mark it handled now rather than leave an unhandled rejection.
  running.catch(() => undefined);
  try {
    await persisted;
  } catch (e) {
    // Not recorded, not run: a host restart would not bring it back.
    for (const e of toPersist) void host.actors.disable(e.name).catch(() => undefined);
    throw e;
  }
  await running;
}

/** See Supervisor.restart: a stop, then an enable. Refused unless the plugin is enabled and free. */
export async function restartPlugin(entry: PluginEntry, actors: PluginActors, enable: (name: string) => Promise<void>): Promise<void> {
  const { name } = entry;
  if (!entry.record.settings.enabled) throw new PlugdError('PLUGD_E_STATE', `plugin "${name}" is not enabled; enable it instead`);
  entry.assertFree(false);
  if (!actors.hasTag(name, 'atRest')) await actors.disable(name);
  await enable(name);
}
