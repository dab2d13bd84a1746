// One running incarnation of a worker-contract plugin with "isolation": "process", seen from the
// main thread: a Node child process under the permission model (permission-flags.ts) running
// entry/isolated-plugin.mjs, its IPC channel (every message checked: a malformed one ends the
// instance with PLUGD_E_PROTOCOL), calls raced against its end, and health probes (process-hang.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import net from 'node:net';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PlugdError } from '../errors.js';
import type { ExitReason } from '../../machines/types.js';
import { EndedInstance } from './ended-instance.js';
import { PendingRequests } from './pending-requests.js';
import { answersPing } from './process-hang.js';
import { readChildMessage, type ChildMessage, type IsolatedInit, type ParentMessage } from './isolated-protocol.js';
import { confinedEnv, permissionFlags, SETPRIV, type Confinement } from './permission-flags.js';
import type { ProbedInstance } from './plugin-instance.js';
import type { ActivationResult } from './protocol.js';
import { callError, errorFromPlain, unsendableArguments } from './remote-errors.js';
import { SLOT_COUNT } from './wire-constants.mjs';

/** The child's entry. */
export const ISOLATED_ENTRY = fileURLToPath(new URL('./entry/isolated-plugin.mjs', import.meta.url));
/** The plugd files the plugin's process may read besides its bundle: its entry and the modules it imports. */
const ISOLATED_MODULES = [
  ISOLATED_ENTRY,
  ...['plain-error.mjs', 'plugin-definition.mjs'].map((f) => fileURLToPath(new URL(`./entry/${f}`, import.meta.url))),
];

export interface NodeProcessInstanceOptions extends Omit<IsolatedInit, 'logLevel'> {
  /** The plugin's bundle: all it may read, with its data folder. */
  bundleDir: string;
  /** The plugin's own env (manifest and settings): the whole env of its process. */
  env: Record<string, string>;
  memoryLimitMb: number;
  nice: number;
  watchdogMs: number;
  /** The log pump's socket: the child's stdout and stderr are connected to it. */
  logSocket: string;
  /** Shared with the log pump, which counts the lines. */
  slots: SharedArrayBuffer;
  logLevel: string;
  /** More paths the plugin may read: plugd's own package, for 'plugd/sdk'. */
  readable?: string[];
}

export class NodeProcessInstance extends EndedInstance implements ProbedInstance {
  // A process to the supervisor: probed for health, no shared heartbeat.
  readonly kind = 'process' as const;
  readonly name: string;
  readonly instance: number;
  readonly slots: Int32Array;
  readonly booted: Promise<void>;
  readonly #options: NodeProcessInstanceOptions;
  readonly #child: ChildProcess;
  /** Method calls in flight, by id (the info is the method's name and its time). */
  readonly #calls: PendingRequests<unknown, CallInfo>;
  /** Health probes in flight, by sequence number: the silence is judged by answersPing, not by a deadline here. */
  readonly #pings = new PendingRequests<void>();
  #activation: { resolve: (list: string[]) => void; reject: (e: Error) => void } | null = null;
  #deactivated: (() => void) | null = null;
  #crash: Error | null = null;
  #stopping = false;

  /** Connects the child's output to the log pump, then starts it. */
  static async start(options: NodeProcessInstanceOptions): Promise<NodeProcessInstance> {
    // The loader reads modules by their real path: a symlink in the store's root must not lock them out.
    const [bundle, data, ...modules] = await Promise.all([options.bundleDir, options.dataDir, ...ISOLATED_MODULES].map((p) => realpath(p)));
    const confinement: Confinement = {
      read: [...ISOLATED_MODULES, ...modules, options.bundleDir, bundle!, options.dataDir, data!, ...(options.readable ?? [])],
      write: [options.dataDir, data!],
      memoryLimitMb: options.memoryLimitMb,
    };
    const streams = await Promise.all((['stdout', 'stderr'] as const).map((stream) => pumpStream(options, stream)));
    try {
      return new NodeProcessInstance(options, confinement, streams as [net.Socket, net.Socket]);
    } finally {
      // The child holds its own copies of the sockets now (or never started).
      for (const s of streams) s.destroy();
    }
  }

  private constructor(options: NodeProcessInstanceOptions, confinement: Confinement, [stdout, stderr]: [net.Socket, net.Socket]) {
    super(options.name, { watchdogMs: options.watchdogMs, memoryLimitMb: options.memoryLimitMb });
    this.#options = options;
    this.name = options.name;
    this.instance = options.instance;
    this.slots = new Int32Array(options.slots, 0, SLOT_COUNT);
    this.#calls = new PendingRequests(
      ({ method, timeoutMs }) =>
        new PlugdError('PLUGD_E_CALL_TIMEOUT', `plugin "${this.name}" did not answer "${method}" within ${timeoutMs} ms`),
    );
    const node = [process.execPath, ...permissionFlags(confinement), ISOLATED_ENTRY];
    // With setpriv, the kernel kills the child when the host dies, busy loop or not.
    const [command, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...node] : node;
    this.#child = spawn(command!, args, {
      cwd: options.dataDir,
      env: confinedEnv(options.env),
      stdio: ['ignore', stdout, stderr, 'ipc'],
      serialization: 'advanced',
    });
    if (options.nice > 0 && this.#child.pid !== undefined) {
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
    this.#child.on('message', (m: unknown) => this.#onMessage(m));
    this.#child.on('error', (e) => this.#finish('crash', null, e));
    // The messages the child sent before it died (its 'crashed') are read before its channel closes.
    this.#child.on('exit', (code, signal) => {
      if (!this.#child.connected) return this.#onExit(code, signal);
      const late = setTimeout(() => this.#onExit(code, signal), 1_000);
      this.#child.once('disconnect', () => {
        clearTimeout(late);
        this.#onExit(code, signal);
      });
    });
  }

  /** The child's pid (undefined if it could not start). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The handshake: loads the module in the child and runs its activate(). */
  async activate(): Promise<ActivationResult> {
    const o = this.#options;
    const init: IsolatedInit = {
      name: o.name,
      id: o.id,
      instance: o.instance,
      entry: o.entry,
      args: o.args,
      dataDir: o.dataDir,
      logLevel: o.logLevel,
    };
    try {
      const answer = new Promise<string[]>((resolve, reject) => {
        this.#activation = { resolve, reject };
      });
      this.#send(['activate', init]);
      return { implements: await this.end.race(answer) };
    } catch (e) {
      if (this.running) this.kill('activation-failed', e);
      throw this.end.error;
    }
  }

  /** Calls a plugin method; rejects rather than hangs when the instance ends or times out. */
  call(method: string, args: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.running) return Promise.reject(this.end.error);
    const id = this.#calls.nextId();
    try {
      if (!this.#send(['call', id, method, args]))
        return this.exited.then(() => {
          throw this.end.error;
        });
    } catch (e) {
      return Promise.reject(unsendableArguments(this.name, method, 'a plugin process', e));
    }
    return this.#calls.wait(id, { method, timeoutMs }, timeoutMs);
  }

  /** One health probe: a ping the child's event loop must answer (process-hang.ts judges a silence). */
  async probe(): Promise<boolean> {
    const pid = this.#child.pid;
    if (!this.running || pid === undefined) return true;
    const seq = this.#pings.nextId();
    try {
      return await answersPing(pid, this.#options.watchdogMs, this.exited, () =>
        this.#send(['ping', seq]) ? this.#pings.wait(seq, undefined) : null,
      );
    } finally {
      this.#pings.take(seq);
    }
  }

  /** Graceful stop: deactivate() within graceMs, then the process is killed. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running || this.#stopping) return;
    this.#stopping = true;
    const done = new Promise<void>((resolve) => {
      this.#deactivated = resolve;
    });
    try {
      this.#send(['deactivate']);
      await this.end.race(done, graceMs);
    } catch {
      /* a failing or slow deactivate still ends in a stop */
    }
    this.kill('stopped');
  }

  /** Ends the instance now; the process gets SIGKILL (it has no children to tidy up). */
  kill(reason: ExitReason, cause?: unknown): void {
    if (!this.running) return;
    this.#finish(reason, null, cause);
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }

  /**
   * Sends a message; false when the channel is closed (the child is ending, its exit will tell
   * why). Throws only for a message that cannot be serialized.
   */
  #send(message: ParentMessage): boolean {
    if (!this.#child.connected) return false;
    this.#child.send(message);
    return true;
  }

  #onMessage(raw: unknown): void {
    if (!this.running) return;
    const m = readChildMessage(raw);
    if (!m) {
      this.kill(
        'crash',
        new PlugdError('PLUGD_E_PROTOCOL', `plugin "${this.name}" sent a malformed message on its IPC channel; its process was ended`),
      );
      return;
    }
    this.#dispatch(m);
  }

  #dispatch(m: ChildMessage): void {
    switch (m[0]) {
      case 'activated':
        this.#activation?.resolve(m[1]);
        this.#activation = null;
        return;
      case 'activate-failed':
        this.#activation?.reject(errorFromPlain(m[1]));
        this.#activation = null;
        return;
      case 'reply':
        return this.#onReply(m);
      case 'pong':
        this.#pings.take(m[1])?.resolve();
        return;
      case 'deactivated':
        this.#deactivated?.();
        return;
      case 'crashed':
        this.#crash = errorFromPlain(m[1]);
    }
  }

  #onReply(m: Extract<ChildMessage, [tag: 'reply', ...unknown[]]>): void {
    const call = this.#calls.take(m[1]);
    if (!call) return; // timed out already
    if (m[2] === 0) call.resolve(m[3]);
    else call.reject(callError(this.name, call.info.method, m[3]));
  }

  /** V8 aborts a process out of heap (SIGABRT): with --max-old-space-size set, that is the likely cause. */
  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.running) return;
    if (this.#crash) this.#finish('crash', code, this.#crash);
    else if (signal === 'SIGABRT') this.#finish('oom', code, new Error('the process aborted (V8 reached its heap limit)'));
    else if (signal) this.#finish('crash', code, new Error(`killed by ${signal}`));
    else this.#finish(this.#stopping ? 'stopped' : 'exit', code, undefined);
  }

  #finish(reason: ExitReason, code: number | null, cause: unknown): void {
    this.end.finish(reason, code, cause, (error) => {
      this.#calls.rejectAll(error);
      this.#pings.rejectAll(error);
      this.#activation?.reject(error);
      this.#activation = null;
    });
  }
}

interface CallInfo {
  method: string;
  timeoutMs: number;
}

/** A connection to the log pump, announced with the header it expects (as process-wrapper.mjs does). */
function pumpStream(options: NodeProcessInstanceOptions, stream: 'stdout' | 'stderr'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options.logSocket);
    socket.once('error', reject);
    const header = `${JSON.stringify({ id: options.id, name: options.name, instance: options.instance, stream })}\n`;
    socket.once('connect', () => socket.write(header, (e) => (e ? reject(e) : resolve(socket))));
  });
}
