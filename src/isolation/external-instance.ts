// A plugin that plugd did not start (found by discovery): an "instance" is a connection to its
// address. The handshake and the health probes are those of process plugins; ending it only
// stops plugd from using it; its process is not plugd's to signal.
import type { Address } from '../docker/docker-protocol.mjs';
import { DockerPluginClient } from '../docker/plugin-client.mjs';
import { dockerCallError, handshakeResult } from '../docker/plugin-errors.js';
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
  readonly #client: DockerPluginClient;
  readonly #options: { tasks: TaskPool; activationTimeoutMs: number; watchdogMs: number };

  constructor(
    name: string,
    instance: number,
    address: Address,
    options: { tasks: TaskPool; activationTimeoutMs: number; watchdogMs: number },
  ) {
    this.name = name;
    this.instance = instance;
    this.address = address;
    this.#options = options;
    this.#client = new DockerPluginClient(address);
    this.#end = new InstanceEnd(name, { watchdogMs: options.watchdogMs });
  }

  get exited() {
    return this.#end.exited;
  }
  get running(): boolean {
    return this.#end.running;
  }
  get uptimeMs(): number {
    return this.#end.uptimeMs;
  }

  async activate(): Promise<ActivationResult> {
    try {
      return {
        implements: handshakeResult(
          this.name,
          await this.#end.race(this.#options.tasks.handshake(this.address, this.#options.activationTimeoutMs)),
        ),
      };
    } catch (e) {
      this.kill('activation-failed', e);
      throw this.#end.error;
    }
  }

  call(method: string, args: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.running) return Promise.reject(this.#end.error);
    return this.#end.race(this.#client.call(method, args, timeoutMs)).catch((e: unknown) => {
      throw dockerCallError(this.name, method, e);
    });
  }

  probe(): Promise<boolean> {
    return this.running ? this.#client.probe(this.#options.watchdogMs) : Promise.resolve(true);
  }

  async stop(): Promise<void> {
    this.kill('stopped');
  }

  kill(reason: ExitReason, cause?: unknown): void {
    if (this.#end.finish(reason, null, cause)) this.#client.close();
  }
}
