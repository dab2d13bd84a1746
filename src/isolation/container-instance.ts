// One running incarnation of a container plugin, seen from the main thread: a container the
// engine runs (made and started by ContainerRuntime), its socket in a bind-mounted folder of the
// host, so the handshake and calls are those of a process plugin; its end is the container's.
//
//   host ──Engine API (dockerode)──> dockerd ──> container: the plugin, PLUGD_SOCKET=/run/plugd/<socket>
//     │ attach stream (stdout/stderr frames) ──demux──> unix socket ──> log pump thread
//     └─ Docker's plugin protocol ──> <root>/run/<id>/<socket>  (the same folder, bind-mounted)
import type Dockerode from 'dockerode';
import { PlugdError } from '../errors.js';
import type { ExitReason } from '../../machines/types.js';
import type { TaskPool } from '../tasks/task-pool.js';
import type { ProbedInstance } from './plugin-instance.js';
import { SocketInstance } from './socket-instance.js';
import { SLOT_COUNT } from './wire-constants.mjs';

export interface ContainerInstanceOptions {
  name: string;
  instance: number;
  /** The created and started container. */
  container: Dockerode.Container;
  /** The host side of the plugin's socket. */
  socketPath: string;
  /** Shared with the log pump, which counts the lines. */
  slots: SharedArrayBuffer;
  /** Between SIGTERM and SIGKILL. */
  graceMs: number;
  memoryMb: number | undefined;
  activationTimeoutMs: number;
  watchdogMs: number;
  tasks: TaskPool;
  /** Removes the container once it has stopped. */
  remove(container: Dockerode.Container): Promise<void>;
}

export class ContainerInstance extends SocketInstance implements ProbedInstance {
  readonly kind = 'container' as const;
  readonly instance: number;
  readonly slots: Int32Array;
  readonly booted = Promise.resolve();
  readonly #options: ContainerInstanceOptions;
  #reason: ExitReason | null = null;
  #force: NodeJS.Timeout | null = null;
  /** Settles when the container has stopped (whoever stopped it). */
  readonly #stopped: Promise<void>;
  /** Settles when the container is gone from the engine: after the instance's end, maybe later. */
  readonly removed: Promise<void>;

  constructor(options: ContainerInstanceOptions) {
    super(options.name, { socketPath: options.socketPath }, { ...options, memoryLimitMb: options.memoryMb });
    this.#options = options;
    this.instance = options.instance;
    this.slots = new Int32Array(options.slots, 0, SLOT_COUNT);
    this.#stopped = options.container
      .wait()
      .then(
        async (result: { StatusCode: number }) => {
          const state = await options.container.inspect().then(
            (info) => info.State,
            () => null,
          );
          if (state?.OOMKilled && this.#reason === null) {
            this.#reason = 'oom';
            const error = new PlugdError(
              'PLUGD_E_PLUGIN_OOM',
              `the container of plugin "${this.name}" reached its memory limit (memoryMb ${options.memoryMb}) and was killed`,
            );
            this.finish('oom', result.StatusCode, error);
          } else {
            // 128 + n: ended by signal n that plugd did not send.
            this.finish(this.#reason ?? (result.StatusCode > 128 ? 'crash' : 'exit'), result.StatusCode, undefined);
          }
        },
        (e: unknown) => this.finish(this.#reason ?? 'crash', null, e),
      )
      .finally(() => {
        if (this.#force) clearTimeout(this.#force);
      });
    this.removed = this.#stopped.then(() => options.remove(options.container));
  }

  /** SIGTERM to the container, SIGKILL after graceMs; resolves when it has stopped. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.#reason ??= 'stopped';
    this.#terminate(graceMs);
    await this.#stopped;
  }

  /** Counts the instance as ended now; the container gets SIGTERM, then SIGKILL, then is removed. */
  kill(reason: ExitReason, cause?: unknown): void {
    if (!this.running) return;
    this.#reason ??= reason;
    this.#terminate(this.#options.graceMs);
    this.finish(reason, null, cause);
  }

  #terminate(graceMs: number): void {
    if (this.#force) return;
    const signal = (name: string) =>
      this.#options.container.kill({ signal: name }).catch(() => {
        /* already stopped */
      });
    void signal('SIGTERM');
    this.#force = setTimeout(() => void signal('SIGKILL'), graceMs);
  }
}
