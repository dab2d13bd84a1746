// A plugin that plugd did not start (found by discovery): an "instance" is a connection to its
// address. The handshake and the health probes are those of process plugins; ending it only
// stops plugd from using it; its process is not plugd's to signal.
import { agentFor, dockerCall, probeHandshake, type Address } from '../docker/docker-protocol.mjs';
import { dockerCallError } from './docker-call-error.js';
import type { ExitReason } from '../../machines/types.js';
import type { TaskPool } from '../tasks/task-pool.js';
import { InstanceEnd } from './instance-end.js';
import type { ProbedInstance } from './plugin-instance.js';
import type { ActivationResult } from './protocol.js';
import { SLOT_COUNT } from './wire-constants.mjs';

export class ExternalInstance implements ProbedInstance {
  readonly kind = 'external' as const;
  readonly name: string;
  readonly instance: number;
  /** No log lines reach plugd from a plugin it did not start: the counters stay at zero. */
  readonly slots = new Int32Array(SLOT_COUNT);
  readonly booted = Promise.resolve();
  readonly address: Address;
  readonly #end: InstanceEnd;
  readonly #agent;
  readonly #options: { tasks: TaskPool; activationTimeoutMs: number; watchdogMs: number };

  constructor(name: string, instance: number, address: Address, options: { tasks: TaskPool; activationTimeoutMs: number; watchdogMs: number }) {
    this.name = name;
    this.instance = instance;
    this.address = address;
    this.#options = options;
    this.#agent = agentFor(address);
    this.#end = new InstanceEnd(name, { watchdogMs: options.watchdogMs });
  }

  get exited() { return this.#end.exited; }
  get running(): boolean { return this.#end.running; }
  get uptimeMs(): number { return this.#end.uptimeMs; }

  async activate(): Promise<ActivationResult> {
    try {
      return { implements: await this.#options.tasks.handshake(this.address, this.#options.activationTimeoutMs) };
    } catch (e) {
      this.kill('activation-failed', e);
      throw this.#end.error;
    }
  }

  call(method: string, args: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.running) return Promise.reject(this.#end.error);
    return this.#end.race(dockerCall(this.address, method, args, { timeoutMs, agent: this.#agent })).catch((e: unknown) => {
      throw dockerCallError(this.name, method, e);
    });
  }

  probe(): Promise<boolean> {
    return this.running ? probeHandshake(this.address, this.#options.watchdogMs, this.#agent) : Promise.resolve(true);
  }

  async stop(): Promise<void> {
    this.kill('stopped');
  }

  kill(reason: ExitReason, cause?: unknown): void {
    if (this.#end.finish(reason, null, cause)) this.#agent.destroy();
  }
}
