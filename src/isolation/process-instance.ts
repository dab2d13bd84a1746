// One running incarnation of a process plugin, seen from the main thread: the wrapper process
// (process-wrapper.mjs) that owns the plugin's process group, the handshake on the task pool,
// and calls in Docker's protocol, each raced against the end of the process.
import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { agentFor, dockerCall, probeHandshake, type Address } from '../docker/docker-protocol.mjs';
import { PlugdError, type ErrorCode } from '../errors.js';
import type { ExitReason } from '../../machines/types.js';
import type { TaskPool } from '../tasks/task-pool.js';
import { InstanceEnd } from './instance-end.js';
import type { ProbedInstance } from './plugin-instance.js';
import type { ActivationResult } from './protocol.js';
import { SLOT_COUNT } from './wire-constants.mjs';

const WRAPPER = new URL('./entry/process-wrapper.mjs', import.meta.url);

export interface ProcessInstanceOptions {
  name: string;
  id: string;
  instance: number;
  /** The command: absolute, or a name looked up on PATH. */
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Where the plugin must listen; given to it as PLUGD_SOCKET. */
  socketPath: string;
  /** The log pump's socket for the plugin's stdout and stderr. */
  logSocket: string;
  /** Shared with the log pump, which counts the lines. */
  slots: SharedArrayBuffer;
  /** Between SIGTERM and SIGKILL. */
  graceMs: number;
  /** Nice value of the wrapper, which the plugin inherits (pluginNice): the host comes first. */
  nice: number;
  activationTimeoutMs: number;
  watchdogMs: number;
  tasks: TaskPool;
}

export class ProcessInstance implements ProbedInstance {
  readonly kind = 'process' as const;
  readonly name: string;
  readonly instance: number;
  readonly slots: Int32Array;
  readonly booted: Promise<void>;
  readonly address: Address;
  readonly #options: ProcessInstanceOptions;
  readonly #child: ChildProcess;
  readonly #agent;
  readonly #end: InstanceEnd;
  #reason: ExitReason | null = null;
  /** The plugin's pid, which is also its process group (the wrapper reports it). */
  #pluginPid: number | null = null;

  constructor(options: ProcessInstanceOptions) {
    this.#options = options;
    this.name = options.name;
    this.instance = options.instance;
    this.slots = new Int32Array(options.slots, 0, SLOT_COUNT);
    this.address = { socketPath: options.socketPath };
    this.#agent = agentFor(this.address);
    this.#end = new InstanceEnd(options.name, { watchdogMs: options.watchdogMs });
    const config = {
      command: options.command, args: options.args, cwd: options.cwd, logSocket: options.logSocket,
      id: options.id, name: options.name, instance: options.instance, graceMs: options.graceMs,
    };
    this.#child = spawn(process.execPath, [WRAPPER.pathname], {
      env: { ...options.env, PLUGD_SOCKET: options.socketPath, PLUGD_WRAPPER: JSON.stringify(config) },
      // stdin is the lifeline: never written, its end tells the wrapper the host is gone.
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    if (options.nice > 0 && this.#child.pid !== undefined) {
      try { setPriority(this.#child.pid, options.nice); } catch { /* not permitted: normal priority */ }
    }
    this.booted = new Promise((resolve) => {
      this.#child.once('spawn', () => resolve());
      void this.exited.then(() => resolve());
    });
    this.#child.stdout!.setEncoding('utf8');
    this.#child.stdout!.once('data', (line: string) => {
      const pid = /^pid (\d+)/.exec(line);
      if (pid) this.#pluginPid = Number(pid[1]);
    });
    this.#child.on('error', (e) => this.#finish('crash', null, e));
    this.#child.on('exit', (code, signal) => {
      const reason = this.#reason ?? (signal ? 'crash' : 'exit');
      this.#finish(reason, code, signal ? new Error(`killed by ${signal}`) : undefined);
    });
  }

  get exited() { return this.#end.exited; }
  get running(): boolean { return this.#end.running; }
  /** The plugin's own pid once the wrapper reported it (for its CPU and memory in the metrics). */
  get pid(): number | null { return this.#pluginPid; }
  get uptimeMs(): number { return this.#end.uptimeMs; }

  /** Docker's handshake, retried on the task pool until activationTimeoutMs. */
  async activate(): Promise<ActivationResult> {
    try {
      const implemented = await this.#end.race(this.#options.tasks.handshake(this.address, this.#options.activationTimeoutMs));
      return { implements: implemented };
    } catch (e) {
      this.kill('activation-failed', e);
      throw this.#end.error;
    }
  }

  /** POST /<method> with the JSON body; an { Err } answer rejects with PLUGD_E_PLUGIN_ERROR. */
  call(method: string, args: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.running) return Promise.reject(this.#end.error);
    return this.#end.race(dockerCall(this.address, method, args, { timeoutMs, agent: this.#agent })).catch((e: unknown) => {
      throw toPlugdError(this.name, method, e);
    });
  }

  /** One health probe (a handshake): false when it does not answer within watchdogMs. */
  probe(): Promise<boolean> {
    return this.running ? probeHandshake(this.address, this.#options.watchdogMs, this.#agent) : Promise.resolve(true);
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
    this.#finish(reason, null, cause);
  }

  #terminate(graceMs: number): void {
    this.#signal('SIGTERM');
    const force = setTimeout(() => this.#signal('SIGKILL'), graceMs);
    force.unref();
    this.#child.once('exit', () => clearTimeout(force));
  }

  /** Signals the plugin's process group and the wrapper (which forwards to the group too). */
  #signal(signal: NodeJS.Signals): void {
    if (this.#pluginPid !== null) {
      try { process.kill(-this.#pluginPid, signal); } catch { /* the group is gone */ }
    }
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
  }

  #finish(reason: ExitReason, code: number | null, cause: unknown): void {
    if (this.#end.finish(reason, code, cause)) this.#agent.destroy();
  }
}

function toPlugdError(name: string, method: string, e: unknown): PlugdError {
  if (e instanceof PlugdError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = ((e as { code?: string }).code ?? 'PLUGD_E_PLUGIN_ERROR') as ErrorCode;
  if (code === 'PLUGD_E_PLUGIN_ERROR') return new PlugdError(code, `plugin "${name}" method "${method}" failed: ${message}`, { cause: e });
  return new PlugdError(code, `plugin "${name}", "${method}": ${message}`, { cause: e });
}
