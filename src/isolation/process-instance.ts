// One running incarnation of a process plugin, seen from the main thread: the wrapper process
// (process-wrapper-sh.mjs, or process-wrapper.mjs where setpriv is missing) that owns the plugin's
// process group, the handshake on the task pool, and calls in Docker's protocol, each raced
// against the end of the process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { getPriority, setPriority } from 'node:os';
import type { Readable } from 'node:stream';
import type { Address } from '../docker/docker-protocol.mjs';
import { DockerPluginClient } from '../docker/plugin-client.mjs';
import { dockerCallError, handshakeResult } from '../docker/plugin-errors.js';
import { PlugdError } from '../errors.js';
import type { ExitReason } from '../../machines/types.js';
import type { TaskPool } from '../tasks/task-pool.js';
import { exitError } from './exit-errors.js';
import { type HangReason, STARVATION_CAP } from './hang-verdict.js';
import { InstanceEnd } from './instance-end.js';
import type { ProbedInstance } from './plugin-instance.js';
import { pingVerdict, readAllThreads } from './process-hang.js';
import type { ActivationResult } from './protocol.js';
import { WRAPPER_SCRIPT } from './entry/process-wrapper-sh.mjs';
import { SETPRIV } from './permission-flags.js';
import { SLOT_COUNT } from './wire-constants.mjs';

const WRAPPER = new URL('./entry/process-wrapper.mjs', import.meta.url);

/**
 * The lean wrapper needs setpriv (the parent-death signal), setsid and a POSIX sh (util-linux and
 * dash on Debian); without them the Node wrapper does the same job at ~40 MB a plugin.
 */
const LEAN =
  SETPRIV !== null && existsSync('/usr/bin/setsid') && existsSync('/bin/sh') && existsSync('/usr/bin/env')
    ? { setpriv: SETPRIV, nice: ['/usr/bin/nice', '/bin/nice'].find((p) => existsSync(p)) ?? null }
    : null;

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
  /** The last lines the plugin wrote to stderr, once the log pump has read all its output. */
  stderrTail: () => Promise<string[]>;
}

/** How long an unexpected exit waits for the log pump to read the plugin's last stderr lines. */
const STDERR_TAIL_WAIT_MS = 1_000;

export class ProcessInstance implements ProbedInstance {
  readonly kind = 'process' as const;
  readonly name: string;
  readonly instance: number;
  readonly slots: Int32Array;
  readonly booted: Promise<void>;
  readonly address: Address;
  readonly #options: ProcessInstanceOptions;
  readonly #child: ChildProcess;
  readonly #client: DockerPluginClient;
  readonly #end: InstanceEnd;
  #reason: ExitReason | null = null;
  /** The plugin's pid, which is also its process group (the wrapper reports it). */
  #pluginPid: number | null = null;
  #activated = false;

  /** Starts the wrapper: the lean one with the log pump's sockets as its fds 3 and 4, or the Node one. */
  static async start(options: ProcessInstanceOptions): Promise<ProcessInstance> {
    if (!LEAN) return new ProcessInstance(options, null);
    const streams = await Promise.all((['stdout', 'stderr'] as const).map((stream) => pumpStream(options, stream)));
    try {
      return new ProcessInstance(options, streams as [net.Socket, net.Socket]);
    } finally {
      for (const s of streams) s.destroy(); // the wrapper holds its own copies now (or never started)
    }
  }

  private constructor(options: ProcessInstanceOptions, pump: [net.Socket, net.Socket] | null) {
    this.#options = options;
    this.name = options.name;
    this.instance = options.instance;
    this.slots = new Int32Array(options.slots, 0, SLOT_COUNT);
    this.address = { socketPath: options.socketPath };
    this.#client = new DockerPluginClient(this.address);
    this.#end = new InstanceEnd(options.name, { watchdogMs: options.watchdogMs });
    const config = {
      command: options.command,
      args: options.args,
      cwd: options.cwd,
      logSocket: options.logSocket,
      id: options.id,
      name: options.name,
      instance: options.instance,
      graceMs: options.graceMs,
      // The wrapper checks its parent is still this process, and ends the plugin when it is not.
      hostPid: process.pid,
    };
    this.#child = pump
      ? spawnLean(options, pump)
      : spawn(process.execPath, [WRAPPER.pathname], {
          env: { ...options.env, PLUGD_SOCKET: options.socketPath, PLUGD_WRAPPER: JSON.stringify(config) },
          // stdin is the lifeline: never written, its end tells the wrapper the host is gone.
          stdio: ['pipe', 'pipe', 'ignore'],
        });
    if (!pump && options.nice > 0 && this.#child.pid !== undefined) {
      try {
        setPriority(this.#child.pid, options.nice);
      } catch {
        /* not permitted: normal priority */
      }
    }
    this.booted = new Promise((resolve) => {
      this.#child.once('spawn', () => resolve());
      void this.exited.then(() => resolve());
    });
    this.#readWrapper(this.#child.stdout!);
    this.#child.on('error', (e) => this.#finish('crash', null, e));
    this.#child.on('exit', (code, signal) => {
      const reason = this.#reason ?? (signal ? 'crash' : 'exit');
      const cause = signal ? new Error(`killed by ${signal}`) : undefined;
      if (this.#reason !== null || !this.running) return this.#finish(reason, code, cause);
      // An exit nobody asked for: its last stderr lines say why, as systemd's status shows them.
      void this.#lastStderr().then((stderr) => {
        this.#finish(reason, code, exitError(this.name, reason, { code, cause, stderr, activating: !this.#activated }));
      });
    });
  }

  /**
   * The wrapper says one thing, once: "pid N\n". Anything else on that pipe (the plugin can
   * open it through /proc) is a protocol violation that ends the instance; a pid is trusted
   * only if it is a child of the wrapper, since the host signals its group.
   */
  #readWrapper(stdout: Readable): void {
    let buffered = '';
    stdout.setEncoding('utf8');
    const onData = (text: string) => {
      buffered += text;
      const nl = buffered.indexOf('\n');
      if (nl === -1 && buffered.length < 32) return;
      stdout.off('data', onData);
      stdout.resume(); // whatever follows is drained, never read
      const pid = wrapperPid(buffered.slice(0, nl), this.#child.pid);
      if (typeof pid === 'number') this.#pluginPid = pid;
      else if (pid === 'malformed')
        this.kill(
          'crash',
          new PlugdError(
            'PLUGD_E_PROTOCOL',
            `the wrapper of plugin "${this.name}" sent a malformed message instead of "pid N"; the instance was ended`,
          ),
        );
    };
    stdout.on('data', onData);
  }

  get exited() {
    return this.#end.exited;
  }
  get running(): boolean {
    return this.#end.running;
  }
  /** The plugin's own pid once the wrapper reported it (for its CPU and memory in the metrics). */
  get pid(): number | null {
    return this.#pluginPid;
  }
  get uptimeMs(): number {
    return this.#end.uptimeMs;
  }

  /** Docker's handshake, retried on the task pool until activationTimeoutMs. */
  async activate(): Promise<ActivationResult> {
    try {
      const implemented = handshakeResult(
        this.name,
        await this.#end.race(this.#options.tasks.handshake(this.address, this.#options.activationTimeoutMs)),
      );
      this.#activated = true;
      return { implements: implemented };
    } catch (e) {
      this.kill('activation-failed', e);
      throw this.#end.error;
    }
  }

  /** POST /<method> with the JSON body; an { Err } answer rejects with PLUGD_E_PLUGIN_ERROR. */
  call(method: string, args: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.running) return Promise.reject(this.#end.error);
    return this.#end.race(this.#client.call(method, args, timeoutMs)).catch((e: unknown) => {
      throw dockerCallError(this.name, method, e);
    });
  }

  /**
   * One health probe (a handshake). A silence past watchdogMs is judged by the plugin's CPU time
   * in /proc (process-hang.ts): hung once it ran its budget without answering, or past
   * STARVATION_CAP × watchdogMs; a plugin only waiting for a core under load is given the time.
   * Before the wrapper reports the pid, or off Linux, a silence past watchdogMs is hung. Resolves
   * true when it answered, else the verdict's reason.
   */
  probe(): Promise<boolean | HangReason> {
    if (!this.running) return Promise.resolve(true);
    const { watchdogMs } = this.#options;
    const pid = this.#pluginPid;
    if (pid === null || process.platform !== 'linux') return this.#client.probe(watchdogMs).then((answered) => answered || 'unobservable');
    return pingVerdict(
      pid,
      watchdogMs,
      this.exited,
      () =>
        this.running
          ? // Only an answer counts: an unreachable plugin is judged like a silent one.
            this.#client.probe(STARVATION_CAP * watchdogMs).then(
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
    this.#finish(reason, null, why);
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
    const force = setTimeout(() => this.#signal('SIGKILL'), graceMs);
    force.unref();
    this.#child.once('exit', () => clearTimeout(force));
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
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
  }

  #finish(reason: ExitReason, code: number | null, cause: unknown): void {
    if (this.#end.finish(reason, code, cause)) this.#client.close();
  }
}

/** The plugin's pid from the wrapper's line, if the line is well-formed and names the wrapper's child. */
function wrapperPid(line: string, wrapperPid: number | undefined): number | 'malformed' | 'gone' {
  const match = /^pid ([1-9]\d{0,9})$/.exec(line);
  if (!match) return 'malformed';
  const pid = Number(match[1]);
  if (pid <= 1 || pid === process.pid || pid === wrapperPid) return 'malformed';
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === wrapperPid ? pid : 'malformed';
  } catch {
    return 'gone'; // the plugin has ended already: its wrapper ends its group
  }
}

/**
 * `[nice -n N] setpriv --pdeathsig TERM -- sh -c WRAPPER_SCRIPT`, each exec'ing the next (one
 * process): the kernel signals the wrapper when the host dies, and nice applies before the
 * plugin is spawned, so the plugin inherits it.
 */
function spawnLean(options: ProcessInstanceOptions, [stdout, stderr]: [net.Socket, net.Socket]): ChildProcess {
  const lean = LEAN!;
  let increment = 0;
  try {
    increment = options.nice - getPriority();
  } catch {
    /* unknown: leave it */
  }
  const nice = lean.nice && increment > 0 ? [lean.nice, '-n', String(increment)] : [];
  const [command, ...args] = [
    ...nice,
    lean.setpriv,
    '--pdeathsig',
    'TERM',
    '--',
    '/bin/sh',
    '-c',
    WRAPPER_SCRIPT,
    'plugd-wrapper',
    String(options.graceMs / 1_000),
    String(process.pid),
    options.command,
    ...options.args,
  ];
  return spawn(command!, args, {
    cwd: options.cwd,
    env: { ...options.env, PLUGD_SOCKET: options.socketPath },
    // fd 1 carries "pid N"; fds 3 and 4 become the plugin's stdout and stderr.
    stdio: ['ignore', 'pipe', 'ignore', stdout, stderr],
  });
}

/** A connection to the log pump, announced with the header it expects. */
function pumpStream(options: ProcessInstanceOptions, stream: 'stdout' | 'stderr'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options.logSocket);
    socket.once('error', reject);
    const header = `${JSON.stringify({ id: options.id, name: options.name, instance: options.instance, stream })}\n`;
    socket.once('connect', () => socket.write(header, (e) => (e ? reject(e) : resolve(socket))));
  });
}
