// The host's handle(capability, fn) registrations: called on every activation of a plugin that
// implements the capability (Docker's plugins.Handle), each call isolated from the others.
import type { Logger } from 'pino';
import type { PluginClient } from '../client.js';

export type ActivationHandler = (name: string, client: PluginClient) => void;

export class ActivationHandlers {
  readonly #byCapability = new Map<string, Set<ActivationHandler>>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Registers `handler`; returns the function that unregisters it. */
  add(capability: string, handler: ActivationHandler): () => void {
    let set = this.#byCapability.get(capability);
    if (!set) this.#byCapability.set(capability, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  /** Tells the handlers of each implemented capability that `name` was activated. */
  activated(_name: string, implemented: string[], clientFor: (capability: string) => PluginClient): void {
    for (const capability of implemented) {
      for (const handler of this.#byCapability.get(capability) ?? []) this.call(handler, clientFor(capability));
    }
  }

  /** Calls one handler; a handler that throws is logged, never the supervisor's problem. */
  call(handler: ActivationHandler, client: PluginClient): void {
    try {
      handler(client.name, client);
    } catch (e) {
      this.#log.error({ plugin: client.name, err: e }, `a handle("${client.capability}") handler threw`);
    }
  }
}
