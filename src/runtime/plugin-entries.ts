// The registry of plugin entries, one per plugin the runtime supervises. Installed plugins (their
// records on disk, in the store) and discovered ones (run by someone else, known in memory only,
// rediscovered rather than restored) are kept apart, as Docker keeps managed plugins apart from
// legacy ones; resolve() finds either, installed first.
import { findPlugin, resolvePlugin, type Registry } from '../store/plugin-lookup.js';
import type { PluginRecord } from '../store/store.js';
import { PluginEntry, type PluginOrigin } from './plugin-entry.js';

export class PluginEntries {
  readonly #installed = new Map<string, PluginEntry>();
  readonly #discovered = new Map<string, PluginEntry>();

  /** Makes the entry of a record (replacing the entry of the same name, if any). */
  add(record: PluginRecord, origin: PluginOrigin): PluginEntry {
    const entry = new PluginEntry(record, origin);
    this.#mapOf(origin).set(entry.name, entry);
    return entry;
  }

  /** Drops an entry, unless another one has taken its name meanwhile. */
  delete(entry: PluginEntry): void {
    const map = this.#mapOf(entry.origin);
    if (map.get(entry.name) === entry) map.delete(entry.name);
  }

  get(name: string): PluginEntry | undefined {
    return this.#installed.get(name) ?? this.#discovered.get(name);
  }

  /** Every entry, installed plugins first. */
  list(): PluginEntry[] {
    return [...this.#installed.values(), ...this.#discovered.values()];
  }

  get size(): number {
    return this.#installed.size + this.#discovered.size;
  }

  /** The records of every entry (what install checks names and requires against). */
  records(): PluginRecord[] {
    return this.list().map((e) => e.record);
  }

  /** Each plugin's `requires`, by name. */
  requiresMap(): Map<string, string[]> {
    return new Map(this.list().map((e) => [e.name, e.record.manifest.requires]));
  }

  /** The names of the plugins that require `name`. */
  dependentsOf(name: string): string[] {
    return this.list()
      .filter((e) => e.record.manifest.requires.includes(name))
      .map((e) => e.name);
  }

  /** A plugin by name, full ID, or an unambiguous ID prefix of 12+ characters (see plugin-lookup.ts). */
  find(nameOrId: string): PluginEntry | undefined {
    return findPlugin(this.#registry, nameOrId);
  }

  /** Like find(), or PLUGD_E_NOT_FOUND naming what is there (or an ambiguous prefix's candidates). */
  resolve(nameOrId: string): PluginEntry {
    return resolvePlugin(this.#registry, nameOrId);
  }

  readonly #registry: Registry<PluginEntry> = {
    list: () => this.list(),
    keys: (e) => e,
    exact: (nameOrId) => this.get(nameOrId) ?? this.list().find((e) => e.id === nameOrId),
  };

  #mapOf(origin: PluginOrigin): Map<string, PluginEntry> {
    return origin === 'installed' ? this.#installed : this.#discovered;
  }
}
