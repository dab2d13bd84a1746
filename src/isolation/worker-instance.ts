// One running incarnation of a worker plugin, seen from the main thread: its thread and the
// thread's comlink proxy (control plane: activate, deactivate), its call channel (data plane),
// its heartbeat slots, and the promise of its end. Nothing waits past that end: a comlink call
// never settles when its worker dies (comlink #601), so each is raced against it, and every
// pending method call is rejected by it.
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { transfer } from 'comlink/dist/esm/comlink.mjs';
import { PlugdError } from '../errors.js';
import type { ExitReason } from '../../machines/types.js';
import { EndedInstance } from './ended-instance.js';
import { PendingRequests } from './pending-requests.js';
import type { PluginInstance } from './plugin-instance.js';
import { PluginThread } from './plugin-thread.js';
import { isCallReply, type ActivationResult, type CallReply, type CallRequest, type PluginInit } from './protocol.js';
import { callError, unsendableArguments } from './remote-errors.js';
import { SLOT_COUNT } from './wire-constants.mjs';

/** The plugin's part of PluginInit, plus what the thread is started with. */
export interface WorkerInstanceOptions extends Pick<PluginInit, 'name' | 'id' | 'instance' | 'entry' | 'args' | 'env' | 'logPort' | 'log'> {
  memoryLimitMb: number;
  /** Nice value of the plugin's thread (Linux); 0 leaves it at the host's priority. */
  nice: number;
  execArgv: string[];
  watchdogMs: number;
}

export class WorkerInstance extends EndedInstance implements PluginInstance {
  readonly kind = 'worker' as const;
  readonly name: string;
  readonly instance: number;
  /** Counters the worker bumps (wire-constants.mjs); read with Atomics. */
  readonly slots: Int32Array;
  /** Settles once the thread has booted (its 'online' event), or has ended before. */
  readonly booted: Promise<void>;

  readonly #thread: PluginThread;
  readonly #worker: Worker;
  /** Set for a standby thread from the warm pool: it receives its plugin with activate(). */
  readonly #standbyInit: PluginInit | null;
  /** Method calls in flight on the call channel, by id (the info is the method's name). */
  readonly #calls: PendingRequests<unknown, CallInfo>;
  readonly #callPort: MessagePort;
  #workerError: unknown = null;
  #stopping = false;

  /** Starts a thread for the instance, or takes on `standby`, a ready thread of the warm pool. */
  constructor(options: WorkerInstanceOptions, standby?: PluginThread) {
    super(options.name, { watchdogMs: options.watchdogMs, memoryLimitMb: options.memoryLimitMb });
    this.name = options.name;
    this.instance = options.instance;
    this.#calls = new PendingRequests(
      ({ method, timeoutMs }) =>
        new PlugdError('PLUGD_E_CALL_TIMEOUT', `plugin "${this.name}" did not answer "${method}" within ${timeoutMs} ms`),
    );
    const heartbeat = new SharedArrayBuffer(SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT);
    this.slots = new Int32Array(heartbeat);
    const calls = new MessageChannel();
    this.#callPort = calls.port1;
    this.#callPort.on('message', (reply: unknown) => {
      if (isCallReply(reply, this.#calls.lastId)) this.#onReply(reply);
      else this.#violation('its call channel', reply);
    });
    this.#callPort.on('messageerror', (e) => this.#violation('its call channel', e));
    const init: PluginInit = {
      name: options.name,
      id: options.id,
      instance: options.instance,
      entry: options.entry,
      args: options.args,
      env: options.env,
      heartbeat,
      heartbeatMs: Math.max(5, Math.floor(options.watchdogMs / 4)),
      logPort: options.logPort,
      callPort: calls.port2,
      log: options.log,
    };
    this.#standbyInit = standby ? init : null;
    this.#thread = standby ?? new PluginThread(init, options, `${options.name}#${options.instance}`);
    this.#thread.onMalformed = (what) => this.#violation('its control channel', what);
    this.#worker = this.#thread.worker;
    this.booted = standby
      ? Promise.resolve()
      : new Promise((resolve) => {
          this.#worker.once('online', () => resolve());
          void this.exited.then(() => resolve());
        });
    this.#worker.on('error', (err: unknown) => {
      this.#workerError = err;
    });
    this.#worker.on('exit', (code) => this.#onWorkerExit(code));
  }

  /** The handshake. Rejects with PLUGD_E_ACTIVATION and ends the instance if activate() fails. */
  async activate(): Promise<ActivationResult> {
    try {
      const init = this.#standbyInit;
      const { api } = this.#thread;
      const handshake = init ? api.activate(transfer(init, [init.logPort, init.callPort])) : api.activate();
      return await this.end.race(handshake);
    } catch (e) {
      if (this.running) this.kill('activation-failed', e);
      throw this.running ? e : this.end.error;
    }
  }

  /** Calls a plugin method; rejects rather than hangs when the instance ends or times out. */
  call(method: string, args: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.running) return Promise.reject(this.end.error);
    const id = this.#calls.nextId();
    const request: CallRequest = [id, method, args];
    try {
      this.#callPort.postMessage(request);
    } catch (e) {
      return Promise.reject(unsendableArguments(this.name, method, 'a worker plugin', e));
    }
    return this.#calls.wait(id, { method, timeoutMs }, timeoutMs);
  }

  /** A malformed message from the plugin's thread ends the instance; the host only notes what came. */
  #violation(where: string, what: unknown): void {
    if (!this.running) return;
    this.kill(
      'crash',
      new PlugdError(
        'PLUGD_E_PROTOCOL',
        `plugin "${this.name}" sent a malformed message on ${where} (${describe(what)}); the instance was ended`,
      ),
    );
  }

  #onReply([id, failed, payload]: CallReply): void {
    const call = this.#calls.take(id);
    if (!call) return; // timed out already
    if (failed) call.reject(callError(this.name, call.info.method, payload));
    else call.resolve(payload);
  }

  /** Graceful stop: deactivate() within graceMs, then terminate. Never waits longer than graceMs. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running || this.#stopping) return;
    this.#stopping = true;
    await this.end.race(this.#thread.api.deactivate(), graceMs).catch(() => {
      /* a failing deactivate still ends in a stop */
    });
    this.kill('stopped');
  }

  /**
   * Ends the instance now. terminate() is not awaited: it returns only once a blocking native
   * call returns, and nothing in the supervisor may wait on that.
   */
  kill(reason: ExitReason, cause?: unknown): void {
    if (!this.running) return;
    this.#finish(reason, null, cause);
    this.#worker.terminate().catch(() => {
      /* already gone */
    });
    this.#worker.unref();
  }

  #onWorkerExit(code: number): void {
    if (!this.running) return;
    const err = this.#workerError as (Error & { code?: string }) | null;
    if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') this.#finish('oom', code, err);
    else if (err) this.#finish('crash', code, err);
    else this.#finish(this.#stopping ? 'stopped' : 'exit', code, undefined);
  }

  #finish(reason: ExitReason, code: number | null, cause: unknown): void {
    this.end.finish(reason, code, cause, (error) => {
      this.#calls.rejectAll(error);
      this.#callPort.close();
    });
  }
}

interface CallInfo {
  method: string;
  timeoutMs: number;
}

/** A short, safe description of what arrived: its type, never its content. */
function describe(what: unknown): string {
  if (what instanceof Error) return `undeliverable: ${what.message}`;
  if (Array.isArray(what)) return `an array of ${what.length}`;
  return what === null ? 'null' : `a value of type ${typeof what}`;
}
