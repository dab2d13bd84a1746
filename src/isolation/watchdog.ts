// Detects plugins whose event loop is blocked: one timer for all instances samples each one's
// heartbeat counter in shared memory. No message per plugin, no work asked of the workers. An
// overdue heartbeat is checked against /proc before a kill: a starved thread is not a hung one.
import { isHung, readThread } from './hang-verdict.js';
import { HEARTBEAT } from './wire-constants.mjs';

interface Watched {
  slots: Int32Array;
  lastBeat: number;
  changedAt: number;
  onHung: () => void;
}

export class Watchdog {
  readonly timeoutMs: number;
  readonly #watched = new Set<Watched>();
  #timer: NodeJS.Timeout | null = null;
  /** Hung instances not yet reported: one per macrotask, so 50 hangs are not one 20 ms burst. */
  readonly #verdicts: (() => void)[] = [];
  #draining = false;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  /** Starts watching a heartbeat; `onHung` is called once. Returns the function that stops watching. */
  watch(slots: Int32Array, onHung: () => void): () => void {
    const entry: Watched = { slots, lastBeat: Atomics.load(slots, HEARTBEAT), changedAt: performance.now(), onHung };
    this.#watched.add(entry);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#sample(), Math.max(5, Math.floor(this.timeoutMs / 4)));
      this.#timer.unref();
    }
    return () => this.#unwatch(entry);
  }

  #unwatch(entry: Watched): void {
    this.#watched.delete(entry);
    if (this.#watched.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #sample(): void {
    const now = performance.now();
    for (const entry of this.#watched) {
      const beat = Atomics.load(entry.slots, HEARTBEAT);
      if (beat !== entry.lastBeat) {
        entry.lastBeat = beat;
        entry.changedAt = now;
      } else if (now - entry.changedAt >= this.timeoutMs && isHung(now - entry.changedAt, this.timeoutMs, readThread(entry.slots))) {
        this.#unwatch(entry);
        this.#verdicts.push(entry.onHung);
      }
    }
    this.#drain();
  }

  #drain(): void {
    if (this.#draining) return;
    const next = this.#verdicts.shift();
    if (!next) return;
    this.#draining = true;
    next();
    setImmediate(() => {
      this.#draining = false;
      this.#drain();
    });
  }

  close(): void {
    this.#verdicts.length = 0;
    for (const entry of [...this.#watched]) this.#unwatch(entry);
  }
}
