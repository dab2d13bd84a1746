// Writes plugins' settings to the store: in order per plugin, and at most two at once. libuv's
// 4-thread pool is shared by every thread of the process, and a burst of enables must not fill
// it with fsyncs while plugin threads need it to read their modules. A discovered plugin's
// settings live in memory only. close() waits for every write queued, and refuses new ones, so
// nothing is written under the store's root once the supervisor's close() resolves.
import { PlugdError } from '../errors.js';
import { Semaphore } from '../isolation/semaphore.js';
import type { PluginEntry } from '../runtime/plugin-entry.js';
import type { PluginSettings, Store } from './store.js';

export class SettingsWriter {
  readonly #store: Store;
  readonly #slots = new Semaphore(2);
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Updates a plugin's settings, after any earlier update of the same plugin. */
  write(entry: PluginEntry, patch: Partial<PluginSettings>): Promise<unknown> {
    if (this.#closed) return Promise.reject(new PlugdError('PLUGD_E_CLOSED', 'the supervisor is closed'));
    const { record } = entry;
    const previous = entry.settingsWrite ?? Promise.resolve();
    const write = previous
      .catch(() => undefined)
      .then(async () => {
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
    this.#pending.add(write);
    const forget = () => {
      this.#pending.delete(write);
    };
    write.then(forget, forget);
    return write;
  }

  /** Refuses new writes and waits for every queued one, whatever its outcome. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Waits for a plugin's pending writes, whatever their outcome. */
  async settle(entry: PluginEntry): Promise<void> {
    await entry.settingsWrite?.catch(() => undefined);
  }
}
