// A FIFO semaphore with two priorities. plugd rations with it what must not all happen at once:
// thread starts (a burst of `new Worker()` blocked the main thread for up to ~450 ms at a time;
// with 2-4 threads booting at once it stayed under ~10 ms and the burst took as long), and
// settings writes (their fsyncs would fill libuv's 4-thread pool, which every thread shares).
import { availableParallelism } from 'node:os';

export function defaultMaxConcurrentStarts(): number {
  return Math.max(2, Math.min(8, availableParallelism()));
}

export class Semaphore {
  readonly limit: number;
  #active = 0;
  /** Urgent requests (a plugin waiting for its thread) come before background ones (refills). */
  readonly #urgent: (() => void)[] = [];
  readonly #background: (() => void)[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  /**
   * Resolves with the function that frees the slot, once one is free: first come, first served,
   * urgent requests before background ones. An aborted wait leaves the queue and rejects with
   * the signal's reason.
   */
  acquire(priority: 'urgent' | 'background' = 'urgent', signal?: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.#active += 1;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.#active -= 1;
          // Hand the slot on in a later macrotask: work freed by one slot must not chain into
          // the next in one tick (20 process spawns in a row blocked the loop ~90 ms).
          const next = this.#urgent.shift() ?? this.#background.shift();
          if (next) {
            this.#active += 1;
            setImmediate(() => {
              this.#active -= 1;
              next();
            });
          }
        });
      };
      const queue = priority === 'urgent' ? this.#urgent : this.#background;
      const onAbort = () => {
        const at = queue.indexOf(grant);
        if (at === -1) return; // already granted
        queue.splice(at, 1);
        reject(signal!.reason);
      };
      if (this.#active < this.limit) return grant();
      queue.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get waiting(): number {
    return this.#urgent.length + this.#background.length;
  }
}
