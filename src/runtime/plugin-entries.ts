// The registry of plugin entries, one per plugin the runtime supervises. Installed plugins (their
// records on disk, in the store) and discovered ones (run by someone else, known in memory only,
// rediscovered rather than restored) are kept apart, as Docker keeps managed plugins apart from
// legacy ones; resolve() finds either, installed first.
import { PlugdError } from '../errors.js';
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

  /** A plugin by name, full ID, or an unambiguous ID prefix of 12+ characters (as Docker does). */
  find(nameOrId: string): PluginEntry | undefined {
    const found = this.get(nameOrId) ?? this.list().find((e) => e.id === nameOrId);
    if (found || nameOrId.length < 12) return found;
    const prefixed = this.list().filter((e) => e.id.startsWith(nameOrId));
    return prefixed.length === 1 ? prefixed[0] : undefined;
  }

  /** Like find(), or PLUGD_E_NOT_FOUND naming what is there. */
  resolve(nameOrId: string): PluginEntry {
    if (typeof nameOrId !== 'string' || nameOrId === '') {
      throw new PlugdError('PLUGD_E_OPTION', 'a plugin name or ID is required', { details: { option: 'name' } });
    }
    const found = this.find(nameOrId);
    if (found) return found;
    throw new PlugdError(
      'PLUGD_E_NOT_FOUND',
      `no installed plugin is named "${nameOrId}"; installed: ${
        this.list()
          .map((e) => e.name)
          .join(', ') || '(none)'
      }`,
    );
  }

  #mapOf(origin: PluginOrigin): Map<string, PluginEntry> {
    return origin === 'installed' ? this.#installed : this.#discovered;
  }
}
