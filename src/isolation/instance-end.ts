// The end of an instance, whatever runs it: the promise of its exit, the error its pending
// calls get, and the race that keeps any call from outliving the instance (comlink #601, a
// socket that never answers...). Worker, process and external instances each hold one.
import { PlugdError } from '../errors.js';
import type { ExitReason, InstanceExit } from '../../machines/types.js';
import { exitError } from './exit-errors.js';

export class InstanceEnd {
  /** Settles once, when the instance has ended for whatever reason. */
  readonly exited: Promise<InstanceExit>;
  readonly #name: string;
  readonly #limits: { watchdogMs: number; memoryLimitMb?: number };
  readonly #startedAt = performance.now();
  readonly #pending = new Set<(error: PlugdError) => void>();
  #resolve!: (exit: InstanceExit) => void;
  #exit: InstanceExit | null = null;
  #error: PlugdError | null = null;

  constructor(name: string, limits: { watchdogMs: number; memoryLimitMb?: number }) {
    this.#name = name;
    this.#limits = limits;
    this.exited = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get running(): boolean {
    return this.#exit === null;
  }

  get uptimeMs(): number {
    return Math.round(performance.now() - this.#startedAt);
  }

  /** What a call gets once the instance has ended (or before it runs). */
  get error(): PlugdError {
    return this.#error ?? new PlugdError('PLUGD_E_NOT_RUNNING', `plugin "${this.#name}" is not running`);
  }

  /**
   * Records the end (once: later calls return false), rejects every raced call, runs `release`
   * (the owner's own pending work gets the error there), then settles `exited`.
   */
  finish(reason: ExitReason, code: number | null, cause: unknown, release?: (error: PlugdError) => void): boolean {
    if (this.#exit) return false;
    const error = exitError(this.#name, reason, { code, cause, ...this.#limits });
    const stopped = reason === 'stopped';
    this.#error = stopped ? new PlugdError('PLUGD_E_NOT_RUNNING', `plugin "${this.#name}" was stopped`) : error;
    this.#exit = { reason, code, error: stopped ? null : error.toInfo(), uptimeMs: this.uptimeMs };
    for (const reject of this.#pending) reject(this.#error);
    this.#pending.clear();
    release?.(this.#error);
    this.#resolve(this.#exit);
    return true;
  }

  /** Settles with `call`, or rejects when the instance ends first or `timeoutMs` passes. */
  race<T>(call: Promise<T>, timeoutMs: number | null = null): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = () => {
        this.#pending.delete(onEnd);
        if (timer) clearTimeout(timer);
      };
      const onEnd = (error: PlugdError) => {
        settle();
        reject(error);
      };
      this.#pending.add(onEnd);
      if (timeoutMs !== null) {
        timer = setTimeout(() => {
          settle();
          reject(new PlugdError('PLUGD_E_CALL_TIMEOUT', `plugin "${this.#name}" did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      call.then(
        (value) => {
          settle();
          resolve(value);
        },
        (e: unknown) => {
          settle();
          reject(e);
        },
      );
    });
  }
}
