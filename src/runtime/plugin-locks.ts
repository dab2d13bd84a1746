// The per-plugin operation lock. An operation that replaces a plugin's record (an upgrade) holds
// the plugin from its call until the new record is in place; every operation that changes a
// plugin claims it first and is refused meanwhile, rather than act on a record being replaced.
import { PlugdError } from '../errors.js';

export class PluginLocks {
  /** name -> what holds it, as a past participle ("upgraded"). */
  readonly #held = new Map<string, string>();

  /** Throws PLUGD_E_STATE if an exclusive operation holds `name`. */
  check(name: string): void {
    const holder = this.#held.get(name);
    if (holder !== undefined) throw new PlugdError('PLUGD_E_STATE', `plugin "${name}" is being ${holder}; try again once that ends`);
  }

  /** Runs `work` holding `name`; refused with PLUGD_E_STATE if something holds it already. */
  async exclusive<T>(name: string, holder: string, work: () => Promise<T>): Promise<T> {
    this.check(name);
    this.#held.set(name, holder);
    try {
      return await work();
    } finally {
      this.#held.delete(name);
    }
  }
}
