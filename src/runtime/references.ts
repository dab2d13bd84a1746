// Docker's plugin refcount: a plugin the host acquired (get(..., { acquire: true })) is in use
// until the client is released, and refuses disable and remove without `force`.
import { PlugdError } from '../errors.js';

export class References {
  readonly #counts = new Map<string, number>();

  acquire(name: string): void {
    this.#counts.set(name, this.count(name) + 1);
  }

  release(name: string): void {
    this.#counts.set(name, Math.max(0, this.count(name) - 1));
  }

  count(name: string): number {
    return this.#counts.get(name) ?? 0;
  }

  /** PLUGD_E_IN_USE unless the plugin is free or `force` is given. */
  assertFree(name: string, force: boolean | undefined): void {
    const refs = this.count(name);
    if (refs > 0 && !force) {
      throw new PlugdError('PLUGD_E_IN_USE', `plugin "${name}" is in use (${refs} reference${refs > 1 ? 's' : ''} acquired by the host); release them or pass { force: true }`);
    }
  }

  forget(name: string): void {
    this.#counts.delete(name);
  }
}
