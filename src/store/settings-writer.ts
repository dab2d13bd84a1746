// Writes plugins' settings to the store: in order per plugin, and at most two at once. libuv's
// 4-thread pool is shared by every thread of the process, and a burst of enables must not fill
// it with fsyncs while plugin threads need it to read their modules. A discovered plugin's
// settings live in memory only.
import { Semaphore } from '../isolation/semaphore.js';
import type { PluginEntry } from '../runtime/plugin-entry.js';
import type { PluginSettings, Store } from './store.js';

export class SettingsWriter {
  readonly #store: Store;
  readonly #slots = new Semaphore(2);

  constructor(store: Store) {
    this.#store = store;
  }

  /** Updates a plugin's settings, after any earlier update of the same plugin. */
  write(entry: PluginEntry, patch: Partial<PluginSettings>): Promise<unknown> {
    const { record } = entry;
    const previous = entry.settingsWrite ?? Promise.resolve();
    const write = previous.catch(() => undefined).then(async () => {
      const settings = { ...record.settings, ...patch };
      if (entry.origin === 'discovered') {
        record.settings = settings;
        return record;
      }
      const release = await this.#slots.acquire();
      try {
        return await this.#store.writeSettings(record.id, settings);
      } finally {
        release();
      }
    });
    entry.settingsWrite = write;
    return write;
  }

  /** Waits for a plugin's pending writes, whatever their outcome. */
  async settle(entry: PluginEntry): Promise<void> {
    await entry.settingsWrite?.catch(() => undefined);
  }
}
