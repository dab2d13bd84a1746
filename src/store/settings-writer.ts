// Writes plugins' settings to the store: in order per plugin, and at most two at once. libuv's
// 4-thread pool is shared by every thread of the process, and a burst of enables must not fill
// it with fsyncs while plugin threads need it to read their modules.
import { Semaphore } from '../isolation/semaphore.js';
import type { PluginRecord, PluginSettings, Store } from './store.js';

export class SettingsWriter {
  readonly #store: Store;
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #slots = new Semaphore(2);

  constructor(store: Store) {
    this.#store = store;
  }

  /** Updates a plugin's settings on disk, after any earlier update of the same plugin. */
  write(record: PluginRecord, patch: Partial<PluginSettings>): Promise<unknown> {
    const previous = this.#queues.get(record.id) ?? Promise.resolve();
    const write = previous.catch(() => undefined).then(async () => {
      const release = await this.#slots.acquire();
      try {
        return await this.#store.writeSettings(record.id, { ...record.settings, ...patch });
      } finally {
        release();
      }
    });
    this.#queues.set(record.id, write);
    return write;
  }

  /** Waits for a plugin's pending writes, whatever their outcome, and forgets its queue. */
  async settle(id: string): Promise<void> {
    await this.#queues.get(id)?.catch(() => undefined);
    this.#queues.delete(id);
  }
}
