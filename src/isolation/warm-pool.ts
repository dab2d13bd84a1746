// Pre-started standby plugin threads: an enable takes one and skips the thread start, the
// pool refills in the background (piscina-style warm threads, but each is handed to one
// plugin for good: a plugin instance owns its thread).
import { PluginThread, type PluginThreadOptions } from './plugin-thread.js';
import type { Semaphore } from './semaphore.js';

/**
 * Refill once no activation has been in flight for this long, through the same start gate as
 * cold starts: a refill during a burst of warm enables competes with it for the cores (measured:
 * a burst of 500 took 7.3 s instead of 2.8 s).
 */
const REFILL_AFTER_IDLE_MS = 100;

export class WarmPool {
  readonly size: number;
  readonly #options: PluginThreadOptions;
  readonly #gate: Semaphore;
  /** Whether activations are in flight; the refill waits until they are not. */
  readonly #busy: () => boolean;
  readonly #ready: PluginThread[] = [];
  /** Slots asked of the gate, and threads booting. */
  #pending = 0;
  readonly #starting = new Set<PluginThread>();
  /** Removes the pool's own listeners from a thread it hands out. */
  readonly #detach = new WeakMap<PluginThread, () => void>();
  readonly #waiters: (() => void)[] = [];
  #seq = 0;
  #closed = false;
  #refill: NodeJS.Timeout | null = null;

  constructor(size: number, options: PluginThreadOptions, gate: Semaphore, busy: () => boolean) {
    this.size = size;
    this.#options = options;
    this.#gate = gate;
    this.#busy = busy;
    this.#fill();
  }

  /** A ready standby thread, or undefined if none is ready (the caller starts one cold). */
  take(): PluginThread | undefined {
    const thread = this.#ready.shift();
    if (thread) {
      this.#detach.get(thread)?.();
      thread.worker.ref();
      this.#scheduleRefill();
    }
    return thread;
  }

  #scheduleRefill(): void {
    if (this.#refill) clearTimeout(this.#refill);
    this.#refill = setTimeout(() => {
      this.#refill = null;
      if (this.#busy()) this.#scheduleRefill();
      else this.#fill();
    }, REFILL_AFTER_IDLE_MS);
    this.#refill.unref();
  }

  /** Resolves once every slot holds a ready thread (starting a pending refill now). */
  whenFull(): Promise<void> {
    if (this.#closed || this.#ready.length >= this.size) return Promise.resolve();
    if (this.#refill) {
      clearTimeout(this.#refill);
      this.#refill = null;
      this.#fill();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #fill(): void {
    while (!this.#closed && this.#ready.length + this.#pending < this.size) {
      this.#pending += 1;
      void this.#gate.acquire('background').then((release) => this.#startOne(release));
    }
  }

  #startOne(release: () => void): void {
    if (this.#closed) {
      this.#pending -= 1;
      return release();
    }
    const thread = new PluginThread(null, this.#options, `standby#${++this.#seq}`);
    const { worker } = thread;
    worker.unref(); // an idle standby thread must not keep the host alive
    this.#starting.add(thread);
    worker.once('online', release);
    // A standby thread that dies is dropped, not restarted: a refill happens on the next take().
    const onError = () => {
      /* its exit follows */
    };
    const onExit = () => {
      release();
      if (this.#starting.delete(thread)) this.#pending -= 1;
      const at = this.#ready.indexOf(thread);
      if (at !== -1) this.#ready.splice(at, 1);
    };
    worker.on('error', onError);
    worker.once('exit', onExit);
    this.#detach.set(thread, () => {
      worker.off('error', onError);
      worker.off('exit', onExit);
    });
    void thread.ready().then((ready) => {
      if (!ready || !this.#starting.delete(thread)) return; // ended: its exit counted it
      this.#pending -= 1;
      if (this.#closed) {
        void worker.terminate();
        return;
      }
      this.#ready.push(thread);
      if (this.#ready.length >= this.size) for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#refill) clearTimeout(this.#refill);
    for (const wake of this.#waiters.splice(0)) wake();
    const all = [...this.#ready.splice(0), ...this.#starting];
    this.#starting.clear();
    await Promise.all(all.map((t) => t.worker.terminate()));
  }
}
