// The watchdog of process (and discovered) plugins: one timer probes every running one with a
// handshake; one whose probe does not answer counts as hung. What a silence means is the
// instance's to judge: a process plugin whose pid is known is judged by its CPU time in /proc
// (process-hang.ts), so one only starved of a core under load is given up to STARVATION_CAP ×
// watchdogMs; one it cannot observe is hung after watchdogMs. (A worker's heartbeat lives in
// shared memory; a process can only be asked.) A verdict with a reason ends the instance with
// PLUGD_E_PLUGIN_HUNG carrying `details.verdict`, before the owner is told.
import { PlugdError } from '../errors.js';
import type { ProbedInstance } from './plugin-instance.js';

export class HealthProbes {
  readonly #intervalMs: number;
  readonly #watched = new Map<ProbedInstance, { probing: boolean; onHung: () => void }>();
  #timer: NodeJS.Timeout | null = null;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  watch(instance: ProbedInstance, onHung: () => void): () => void {
    this.#watched.set(instance, { probing: false, onHung });
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#probeAll(), this.#intervalMs);
      this.#timer.unref();
    }
    return () => this.#unwatch(instance);
  }

  #unwatch(instance: ProbedInstance): void {
    this.#watched.delete(instance);
    if (this.#watched.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #probeAll(): void {
    for (const [instance, entry] of this.#watched) {
      if (entry.probing) continue;
      entry.probing = true;
      void instance.probe().then((result) => {
        entry.probing = false;
        if (result === true || !this.#watched.has(instance)) return;
        this.#unwatch(instance);
        if (result !== false) {
          instance.kill(
            'hung',
            new PlugdError(
              'PLUGD_E_PLUGIN_HUNG',
              `plugin "${instance.name}" did not answer a health check within ${this.#intervalMs} ms and was terminated`,
              { details: { verdict: result } },
            ),
          );
        }
        entry.onHung();
      });
    }
  }

  close(): void {
    for (const instance of [...this.#watched.keys()]) this.#unwatch(instance);
  }
}
