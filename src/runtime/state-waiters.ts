// Promises that settle on plugin state changes: what enable(), disable() and remove() await.
// Waiters are kept by the plugin names they watch, so a state change costs O(its waiters).
import type { PluginStateName } from '../../machines/types.js';
import { fromInfo, PlugdError } from '../errors.js';
import type { StateEvent } from './state-event.js';

type Check = (change: StateEvent, resolve: () => void, reject: (e: Error) => void) => void;

export class StateWaiters {
  readonly #byName = new Map<string, Set<(change: StateEvent) => void>>();
  readonly #onClose = new Set<(e: Error) => void>();
  #closed = false;

  /** Hands a state change to the waiters of its plugin. */
  notify(change: StateEvent): void {
    for (const waiter of [...(this.#byName.get(change.name) ?? [])]) waiter(change);
  }

  /** Resolves when `name` runs; rejects on its failed activation, or when a dependency gives up. */
  whenRunning(name: string, order: string[]): Promise<void> {
    return this.#watch(order, (change, resolve, reject) => {
      if (change.name === name) {
        if (change.to === 'running') return resolve();
        if (change.to === 'restarting' || change.to === 'disabled') {
          const error = change.error ? fromInfo(change.error) : new PlugdError('PLUGD_E_STATE', `plugin "${name}" was disabled before it ran`);
          return reject(error);
        }
      } else if (change.to === 'disabled') {
        const cause = change.error ? fromInfo(change.error) : undefined;
        reject(new PlugdError('PLUGD_E_DEPENDENCY', `plugin "${name}" cannot run: its dependency "${change.name}" was disabled${cause ? ` (${cause.message})` : ''}`, cause ? { cause } : undefined));
      }
    });
  }

  /** Resolves when `name` reaches a state that `reached` accepts. */
  whenState(name: string, reached: (s: PluginStateName) => boolean): Promise<void> {
    return this.#watch([name], (change, resolve) => {
      if (reached(change.to)) resolve();
    });
  }

  /** Rejects every pending wait, and every later one, with PLUGD_E_CLOSED. */
  close(): void {
    this.#closed = true;
    for (const reject of [...this.#onClose]) reject(new PlugdError('PLUGD_E_CLOSED', 'the supervisor closed while the operation waited'));
  }

  #watch(names: string[], check: Check): Promise<void> {
    if (this.#closed) return Promise.reject(new PlugdError('PLUGD_E_CLOSED', 'the supervisor is closed'));
    return new Promise<void>((resolve, reject) => {
      const waiter = (change: StateEvent) => check(change, done(resolve), done(reject));
      const done = <A extends unknown[]>(settle: (...a: A) => void) => (...a: A) => {
        for (const name of names) {
          const set = this.#byName.get(name);
          set?.delete(waiter);
          if (set?.size === 0) this.#byName.delete(name);
        }
        this.#onClose.delete(rejectOnClose);
        settle(...a);
      };
      const rejectOnClose = done(reject);
      for (const name of names) {
        let set = this.#byName.get(name);
        if (!set) this.#byName.set(name, (set = new Set()));
        set.add(waiter);
      }
      this.#onClose.add(rejectOnClose);
    });
  }
}
