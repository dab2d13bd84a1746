// Promises that settle on plugin states: what enable(), disable() and remove() await.
// A wait for a state is a level, not an edge: each waiter first looks at the state the plugin is
// in now, then at each change. Waiters are kept by the plugin names they watch, so a state change
// costs O(its waiters).
import type { PluginStateName } from '../../machines/types.js';
import { fromInfo, PlugdError } from '../errors.js';
import type { StateEvent } from './state-event.js';

/** What a waiter looks at: a change, or (first) the present state as a change from itself. */
type Check = (change: StateEvent, resolve: () => void, reject: (e: Error) => void) => void;

export class StateWaiters {
  readonly #byName = new Map<string, Set<(change: StateEvent) => void>>();
  readonly #onClose = new Set<(e: Error) => void>();
  readonly #stateOf: (name: string) => PluginStateName;
  #closed = false;

  /** `stateOf` gives the state a plugin is in now ('removed' once its actor is gone). */
  constructor(stateOf: (name: string) => PluginStateName) {
    this.#stateOf = stateOf;
  }

  /** Hands a state change to the waiters of its plugin. */
  notify(change: StateEvent): void {
    for (const waiter of [...(this.#byName.get(change.name) ?? [])]) waiter(change);
  }

  /**
   * Resolves when `name` runs (at once if it does). Rejects when its activation fails (it goes
   * to `restarting`, or gives up), when it is disabled first, or when one of the plugins it
   * requires (`order`) fails or is disabled: the plugin then waits in `enabled`, visibly, and
   * starts when its dependency runs, but the caller is not kept waiting for a backoff.
   * With `idleIsReady`, an `enabled` plugin for which it answers true counts as ready too.
   */
  whenRunning(name: string, order: string[], idleIsReady?: (name: string) => boolean): Promise<void> {
    return this.#watch(order, (change, resolve, reject) => {
      if (change.name === name) {
        if (change.to === 'running') return resolve();
        // A lazy plugin's enable ends when it is enabled and idle, waiting for its first call.
        if (change.to === 'enabled' && idleIsReady?.(name)) return resolve();
        if (change.from === change.to) return;
        if (change.to === 'restarting' || change.to === 'disabled' || change.to === 'removed') {
          const error = change.error
            ? fromInfo(change.error)
            : new PlugdError('PLUGD_E_STATE', `plugin "${name}" was ${change.to === 'removed' ? 'removed' : 'disabled'} before it ran`);
          return reject(error);
        }
      } else if (change.from !== change.to && (change.to === 'disabled' || change.to === 'restarting' || change.to === 'removed')) {
        const cause = change.error ? fromInfo(change.error) : undefined;
        const what = change.to === 'restarting' ? 'failed and is restarting' : `was ${change.to}`;
        reject(
          new PlugdError(
            'PLUGD_E_DEPENDENCY',
            `plugin "${name}" cannot run yet: its dependency "${change.name}" ` +
              `${what}${cause ? ` (${cause.message})` : ''}; it waits in "enabled" and starts once "${change.name}" runs`,
            cause ? { cause } : undefined,
          ),
        );
      }
    });
  }

  /** Resolves when `name` is in a state that `reached` accepts: at once if it is now. */
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
      let settled = false;
      const waiter = (change: StateEvent) => check(change, done(resolve), done(reject));
      const done =
        <A extends unknown[]>(settle: (...a: A) => void) =>
        (...a: A) => {
          if (settled) return;
          settled = true;
          for (const name of names) {
            const set = this.#byName.get(name);
            set?.delete(waiter);
            if (set?.size === 0) this.#byName.delete(name);
          }
          this.#onClose.delete(rejectOnClose);
          settle(...a);
        };
      const rejectOnClose = done(reject);
      // The level first: the state each watched plugin is in now, as a change to itself.
      for (const name of names) {
        const now = this.#stateOf(name);
        waiter({ name, from: now, to: now, at: Date.now(), error: null, restarts: 0 });
        if (settled) return;
      }
      for (const name of names) {
        let set = this.#byName.get(name);
        if (!set) this.#byName.set(name, (set = new Set()));
        set.add(waiter);
      }
      this.#onClose.add(rejectOnClose);
    });
  }
}
