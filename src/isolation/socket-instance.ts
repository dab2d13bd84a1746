// What process, container and discovered plugins share: a plugin at an address that speaks
// Docker's plugin protocol. The handshake runs on the task pool; calls and probes go through one
// DockerPluginClient; each is raced against the instance's end, which closes the client.
import type { Address } from '../docker/docker-protocol.mjs';
import { DockerPluginClient } from '../docker/plugin-client.mjs';
import { dockerCallError, handshakeResult } from '../docker/plugin-errors.js';
import type { ExitReason } from '../../machines/types.js';
import type { TaskPool } from '../tasks/task-pool.js';
import { EndedInstance } from './ended-instance.js';
import type { HangReason } from './hang-verdict.js';
import type { ActivationResult } from './protocol.js';

export interface SocketInstanceOptions {
  tasks: TaskPool;
  activationTimeoutMs: number;
  watchdogMs: number;
  memoryLimitMb?: number | undefined;
}

export abstract class SocketInstance extends EndedInstance {
  readonly name: string;
  readonly address: Address;
  protected readonly client: DockerPluginClient;
  readonly #socketOptions: SocketInstanceOptions;

  constructor(name: string, address: Address, options: SocketInstanceOptions) {
    super(name, { watchdogMs: options.watchdogMs, memoryLimitMb: options.memoryLimitMb });
    this.name = name;
    this.address = address;
    this.#socketOptions = options;
    this.client = new DockerPluginClient(address);
  }

  /** Docker's handshake, retried on the task pool until activationTimeoutMs; a failure ends the instance. */
  async activate(): Promise<ActivationResult> {
    const { tasks, activationTimeoutMs } = this.#socketOptions;
    try {
      return { implements: handshakeResult(this.name, await this.end.race(tasks.handshake(this.address, activationTimeoutMs))) };
    } catch (e) {
      this.kill('activation-failed', e);
      throw this.end.error;
    }
  }

  /** POST /<method> with the JSON body; an { Err } answer rejects with PLUGD_E_PLUGIN_ERROR. */
  call(method: string, args: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.running) return Promise.reject(this.end.error);
    return this.end.race(this.client.call(method, args, timeoutMs)).catch((e: unknown) => {
      throw dockerCallError(this.name, method, e);
    });
  }

  /** One health probe (a handshake): true when answered within watchdogMs. */
  probe(): Promise<boolean | HangReason> {
    return this.running ? this.client.probe(this.#socketOptions.watchdogMs) : Promise.resolve(true);
  }

  abstract kill(reason: ExitReason, cause?: unknown): void;

  /** Records the end (the first one counts) and closes the client. */
  protected finish(reason: ExitReason, code: number | null, cause: unknown): void {
    if (this.end.finish(reason, code, cause)) this.client.close();
  }
}
