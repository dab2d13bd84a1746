// The watchdog of process (and discovered) plugins: one timer probes every running one with a
// handshake; one whose probe does not answer counts as hung. What a silence means is the
// instance's to judge: a process plugin whose pid is known is judged by its CPU time in /proc
// (process-hang.ts), so one only starved of a core under load is given up to STARVATION_CAP ×
// watchdogMs; one it cannot observe is hung after watchdogMs. (A worker's heartbeat lives in
// shared memory; a process can only be asked.) A verdict with a reason ends the instance with
// PLUGD_E_PLUGIN_HUNG carrying `details.verdict`, before the owner is told.
import { PlugdError } from '../errors.js';
import { cpuBudgetUs, type HangReason, STARVATION_CAP } from './hang-verdict.js';
import type { ProbedInstance } from './plugin-instance.js';

/** Why the plugin was judged hung, in words: each verdict comes after its own time. */
export function hungMessage(name: string, verdict: HangReason, watchdogMs: number): string {
  const cpuMs = Math.round(cpuBudgetUs(watchdogMs) / 1000);
  switch (verdict) {
    case 'cpu-budget':
      return (
        `plugin "${name}" did not answer a health check within ${watchdogMs} ms, then ran ${cpuMs} ms of CPU ` +
        'without answering (a loop that does not yield); it was terminated'
      );
    case 'starvation-cap':
      return (
        `plugin "${name}" did not answer a health check within ${STARVATION_CAP * watchdogMs} ms ` +
        `(${STARVATION_CAP} × the ${watchdogMs} ms watchdog, the most a plugin waiting for a core is given); it was terminated`
      );
    case 'unobservable':
      return `plugin "${name}" did not answer a health check within ${watchdogMs} ms and was terminated`;
  }
}

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
            new PlugdError('PLUGD_E_PLUGIN_HUNG', hungMessage(instance.name, result, this.#intervalMs), { details: { verdict: result } }),
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
