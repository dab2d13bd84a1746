// One running incarnation of a process plugin, seen from the main thread: the wrapper process
// (process-wrapper-sh.mjs, or process-wrapper.mjs where setpriv is missing) that owns the plugin's
// process group, the handshake on the task pool, and calls in Docker's protocol, each raced
// against the end of the process. The spawner thread starts the wrapper and reports on it; the
// main thread signals it and the plugin's group by pid, synchronously.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PlugdError } from '../errors.js';
import type { ExitReason } from '../../machines/types.js';
import type { TaskPool } from '../tasks/task-pool.js';
import { exitError } from './exit-errors.js';
import { type HangReason, STARVATION_CAP } from './hang-verdict.js';
import type { ProbedInstance } from './plugin-instance.js';
import { pingVerdict, readAllThreads } from './process-hang.js';
import type { ActivationResult } from './protocol.js';
import { SETPRIV } from './permission-flags.js';
import type { Spawner } from './spawner.js';
import type { LeanTools, PluginCommand, SpawnEvent } from './spawner-protocol.js';
import { SocketInstance } from './socket-instance.js';
import { SLOT_COUNT } from './wire-constants.mjs';

const WRAPPER = new URL('./entry/process-wrapper.mjs', import.meta.url);

/**
 * The lean wrapper needs setpriv (the parent-death signal), setsid and a POSIX sh (util-linux and
 * dash on Debian); without them the Node wrapper does the same job at ~40 MB a plugin.
 */
const LEAN: LeanTools | null =
  SETPRIV !== null && existsSync('/usr/bin/setsid') && existsSync('/bin/sh') && existsSync('/usr/bin/env')
    ? { setpriv: SETPRIV, nice: ['/usr/bin/nice', '/bin/nice'].find((p) => existsSync(p)) ?? null }
    : null;

export interface ProcessInstanceOptions extends PluginCommand {
  /** Shared with the log pump, which counts the lines. */
  slots: SharedArrayBuffer;
  activationTimeoutMs: number;
  watchdogMs: number;
  tasks: TaskPool;
  /** The last lines the plugin wrote to stderr, once the log pump has read all its output. */
  stderrTail: () => Promise<string[]>;
  /** The supervisor's spawner thread, which starts the wrapper. */
  spawner: Spawner;
}

/** How much longer than its grace a wrapper that alone knows its plugin's group is given. */
const WRAPPER_MARGIN_MS = 1_000;

/** How long an unexpected exit waits for the log pump to read the plugin's last stderr lines. */
const STDERR_TAIL_WAIT_MS = 1_000;

export class ProcessInstance extends SocketInstance implements ProbedInstance {
  readonly kind = 'process' as const;
  readonly instance: number;
  readonly slots: Int32Array;
  readonly booted: Promise<void>;
  readonly #options: ProcessInstanceOptions;
  #reason: ExitReason | null = null;
  /** The wrapper's pid while it runs: null once it has exited (or never started). */
  #wrapperPid: number | null;
  /** The plugin's pid, which is also its process group (the wrapper reports it). */
  #pluginPid: number | null = null;
  #activated = false;
  /** The SIGKILL that follows a SIGTERM after the grace, until the wrapper exits. */
  #force: NodeJS.Timeout | null = null;

  /**
   * Has the spawner thread start the wrapper (the lean one, with the log pump's sockets as its
   * fds 3 and 4, or the Node one). Resolves once it runs, or with an ended instance when it could
   * not start; rejects when the log pump cannot be reached.
   */
  static start(options: ProcessInstanceOptions): Promise<ProcessInstance> {
    return new Promise((resolve, reject) => {
      let instance: ProcessInstance | null = null;
      options.spawner.spawn(
        {
          lean: LEAN,
          nodeWrapper: fileURLToPath(WRAPPER),
          command: options.command,
          args: options.args,
          cwd: options.cwd,
          env: options.env,
          socketPath: options.socketPath,
          logSocket: options.logSocket,
          id: options.id,
          name: options.name,
          instance: options.instance,
          graceMs: options.graceMs,
          nice: options.nice,
        },
        (event) => {
          if (instance) return instance.#on(event);
          if (event.type === 'failed') return reject(event.error);
          instance = new ProcessInstance(options, event.type === 'spawned' ? event.pid : null);
          if (event.type !== 'spawned') instance.#on(event);
          resolve(instance);
        },
      );
    });
  }

  private constructor(options: ProcessInstanceOptions, wrapperPid: number | null) {
    super(options.name, { socketPath: options.socketPath }, options);
    this.#options = options;
    this.instance = options.instance;
    this.slots = new Int32Array(options.slots, 0, SLOT_COUNT);
    this.#wrapperPid = wrapperPid;
    this.booted = Promise.resolve(); // the fork is done, off this thread
  }

  /** What the spawner thread reports of the wrapper. */
  #on(event: SpawnEvent): void {
    switch (event.type) {
      case 'pid':
        this.#pluginPid = event.pid;
        return;
      case 'malformed':
        return this.kill(
          'crash',
          new PlugdError(
            'PLUGD_E_PROTOCOL',
            `the wrapper of plugin "${this.name}" sent a malformed message instead of "pid N"; the instance was ended`,
          ),
        );
      case 'error':
        return this.finish('crash', null, event.error);
      case 'lost':
        // The kernel signals the wrapper, which ends the group; nothing will report its exit.
        this.#signal('SIGTERM');
        this.#exitedWrapper();
        return this.finish(this.#reason ?? 'crash', null, this.#reason === 'stopped' ? undefined : event.error);
      case 'exit':
        return this.#onExit(event.code, event.signal);
      default:
        return; // 'spawned' and 'failed' come first, to start()
    }
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.#exitedWrapper();
    const reason = this.#reason ?? (signal ? 'crash' : 'exit');
    const cause = signal ? new Error(`killed by ${signal}`) : undefined;
    if (this.#reason !== null || !this.running) return this.finish(reason, code, cause);
    // An exit nobody asked for: its last stderr lines say why, as systemd's status shows them.
    void this.#lastStderr().then((stderr) => {
      this.finish(reason, code, exitError(this.name, reason, { code, cause, stderr, activating: !this.#activated }));
    });
  }

  #exitedWrapper(): void {
    this.#wrapperPid = null;
    if (this.#force) clearTimeout(this.#force);
    this.#force = null;
  }

  /** The plugin's own pid once the wrapper reported it (for its CPU and memory in the metrics). */
  get pid(): number | null {
    return this.#pluginPid;
  }
  /** Docker's handshake; an exit after it is no longer one "before it activated". */
  override async activate(): Promise<ActivationResult> {
    const result = await super.activate();
    this.#activated = true;
    return result;
  }

  /**
   * One health probe (a handshake). A silence past watchdogMs is judged by the plugin's CPU time
   * in /proc (process-hang.ts): hung once it ran its budget without answering, or past
   * STARVATION_CAP × watchdogMs; a plugin only waiting for a core under load is given the time.
   * Before the wrapper reports the pid, or off Linux, a silence past watchdogMs is hung. Resolves
   * true when it answered, else the verdict's reason.
   */
  override probe(): Promise<boolean | HangReason> {
    if (!this.running) return Promise.resolve(true);
    const { watchdogMs } = this.#options;
    const pid = this.#pluginPid;
    if (pid === null || process.platform !== 'linux') return this.client.probe(watchdogMs).then((answered) => answered || 'unobservable');
    return pingVerdict(
      pid,
      watchdogMs,
      this.exited,
      () =>
        this.running
          ? // Only an answer counts: an unreachable plugin is judged like a silent one.
            this.client.probe(STARVATION_CAP * watchdogMs).then(
              (answered) => (answered ? undefined : new Promise<void>(() => {})),
              () => new Promise<void>(() => {}),
            )
          : null,
      readAllThreads,
    ).then((verdict) => verdict ?? true);
  }

  /** SIGTERM to the plugin's group, SIGKILL after graceMs; resolves when the process is gone. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.#reason ??= 'stopped';
    this.#terminate(graceMs);
    await this.exited;
  }

  /** Counts the instance as ended now; the process group gets SIGTERM, then SIGKILL. */
  kill(reason: ExitReason, cause?: unknown): void {
    if (!this.running) return;
    this.#reason ??= reason;
    this.#terminate(this.#options.graceMs);
    const why =
      reason === 'hung' && cause === undefined
        ? new PlugdError(
            'PLUGD_E_PLUGIN_HUNG',
            `plugin "${this.name}" did not answer a health check within ${this.#options.watchdogMs} ms and was terminated`,
          )
        : cause;
    this.finish(reason, null, why);
  }

  /** The plugin's last stderr lines, or none if the log pump cannot tell within STDERR_TAIL_WAIT_MS. */
  #lastStderr(): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<string[]>((resolve) => {
      timer = setTimeout(() => resolve([]), STDERR_TAIL_WAIT_MS);
    });
    const tail = this.#options.stderrTail().catch(() => []);
    return Promise.race([tail, bound]).finally(() => clearTimeout(timer));
  }

  #terminate(graceMs: number): void {
    this.#signal('SIGTERM');
    if (this.#wrapperPid === null || this.#force) return; // the wrapper is gone, or a SIGKILL is due already
    // Without the plugin's pid, only the wrapper can kill its group: it is given its grace and a
    // margin, or a plugin that ignores SIGTERM would outlive a wrapper killed first.
    const due = this.#pluginPid === null ? graceMs + WRAPPER_MARGIN_MS : graceMs;
    this.#force = setTimeout(() => this.#signal('SIGKILL'), due);
    this.#force.unref();
  }

  /** Signals the plugin's process group and the wrapper (which forwards to the group too). */
  #signal(signal: NodeJS.Signals): void {
    if (this.#pluginPid !== null) {
      try {
        process.kill(-this.#pluginPid, signal);
      } catch {
        /* the group is gone */
      }
    }
    if (this.#wrapperPid !== null) {
      try {
        process.kill(this.#wrapperPid, signal);
      } catch {
        /* it has exited; its exit is on its way from the spawner thread */
      }
    }
  }
}
