// A plugin that plugd did not start (found by discovery): an "instance" is a connection to its
// address. The handshake and the health probes are those of process plugins; ending it only
// stops plugd from using it; its process is not plugd's to signal.
import type { Address } from '../docker/docker-protocol.mjs';
import type { ExitReason } from '../../machines/types.js';
import type { TaskPool } from '../tasks/task-pool.js';
import type { ProbedInstance } from './plugin-instance.js';
import { SocketInstance } from './socket-instance.js';
import { SLOT_COUNT } from './wire-constants.mjs';

export class ExternalInstance extends SocketInstance implements ProbedInstance {
  readonly kind = 'external' as const;
  readonly instance: number;
  /** No log lines reach plugd from a plugin it did not start: the counters stay at zero. */
  readonly slots = new Int32Array(SLOT_COUNT);
  readonly booted = Promise.resolve();

  constructor(
    name: string,
    instance: number,
    address: Address,
    options: { tasks: TaskPool; activationTimeoutMs: number; watchdogMs: number },
  ) {
    super(name, address, options);
    this.instance = instance;
  }

  async stop(): Promise<void> {
    this.kill('stopped');
  }

  kill(reason: ExitReason, cause?: unknown): void {
    this.finish(reason, null, cause);
  }
}
