// What the host holds to call a plugin capability. A client outlives restarts: each call goes to
// the instance running at that moment, or rejects with PLUGD_E_NOT_RUNNING. A call to a lazy
// plugin that does not run activates it first, then runs.
import type { CallCounters } from './control/call-counters.js';
import { PlugdError } from './errors.js';
import type { PluginInstance } from './isolation/plugin-instance.js';

export interface CallOptions {
  /** Overrides the supervisor's callTimeoutMs for this call. */
  timeoutMs?: number;
}

/** The supervisor's side of a client: where the current instance is and how references count. */
export interface ClientBackend {
  instanceOf(name: string): PluginInstance | undefined;
  callTimeoutMs: number;
  release(name: string): void;
  /** Counted per plugin for the metrics. */
  calls?: CallCounters;
  /** A lazy plugin that does not run: resolves once it does (activating it); undefined otherwise. */
  activate?(name: string): Promise<void> | undefined;
  /** Marks a call's start; returns what marks its end (a lazy plugin's idle timer), if anything. */
  callStarted?(name: string): (() => void) | undefined;
}

/**
 * A client for one capability of one plugin.
 *
 * @example
 * const greeter = await sup.get('hello', 'Greeter');
 * const { greeting } = await greeter.call('Greeter.Hello', { name: 'Ada' });
 */
export class PluginClient {
  readonly name: string;
  readonly capability: string;
  readonly #backend: ClientBackend;
  #acquired: boolean;

  constructor(backend: ClientBackend, name: string, capability: string, acquired: boolean) {
    this.#backend = backend;
    this.name = name;
    this.capability = capability;
    this.#acquired = acquired;
  }

  /** Calls a method of the plugin (Docker style `Capability.Method`) with a structured-cloneable body. */
  call<T = unknown>(method: string, args?: unknown, options: CallOptions = {}): Promise<T> {
    if (typeof method !== 'string' || method === '') {
      return Promise.reject(
        new PlugdError('PLUGD_E_CALL', `call() on plugin "${this.name}" needs a method name such as "${this.capability}.Method"`),
      );
    }
    const instance = this.#backend.instanceOf(this.name);
    if (!instance?.running) {
      const activation = this.#backend.activate?.(this.name);
      if (activation) return activation.then(() => this.#callCurrent<T>(method, args, options));
      return this.#notRunning();
    }
    return this.#callOn<T>(instance, method, args, options);
  }

  #callCurrent<T>(method: string, args: unknown, options: CallOptions): Promise<T> {
    const instance = this.#backend.instanceOf(this.name);
    return instance?.running ? this.#callOn<T>(instance, method, args, options) : this.#notRunning();
  }

  #callOn<T>(instance: PluginInstance, method: string, args: unknown, options: CallOptions): Promise<T> {
    const ended = this.#backend.callStarted?.(this.name);
    const call = instance.call(method, args, options.timeoutMs ?? this.#backend.callTimeoutMs) as Promise<T>;
    if (ended) call.then(ended, ended);
    const calls = this.#backend.calls;
    return calls ? calls.track(this.name, call) : call;
  }

  #notRunning<T>(): Promise<T> {
    const calls = this.#backend.calls;
    if (calls) calls.of(this.name).notRunning += 1;
    return Promise.reject(
      new PlugdError('PLUGD_E_NOT_RUNNING', `plugin "${this.name}" is not running; enable it, or wait for its restart`),
    );
  }

  /** Gives back a reference taken with `get(..., { acquire: true })`. Idempotent. */
  release(): void {
    if (!this.#acquired) return;
    this.#acquired = false;
    this.#backend.release(this.name);
  }
}
