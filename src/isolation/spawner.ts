// The main thread's handle on the spawner thread (entry/spawner-thread.mjs), which forks the
// wrappers of process plugins off the main thread. One per supervisor, started with the first
// process plugin and kept until close(): the kernel's parent-death signal of a lean wrapper fires
// when the thread that forked it ends, so the thread must outlive every wrapper it started.
import { Worker } from 'node:worker_threads';
import { PlugdError } from '../errors.js';
import type { SpawnEvent, SpawnRequest, SpawnerReply, SpawnerRequest } from './spawner-protocol.js';

const ENTRY = new URL('./entry/spawner-thread.mjs', import.meta.url);

export type SpawnListener = (event: SpawnEvent) => void;

export class Spawner {
  /** The thread, while it runs; a new one starts with the next spawn after an unexpected end. */
  #worker: Worker | null = null;
  /** Whose wrapper each seq is, until its exit (or the thread's end). */
  readonly #listeners = new Map<number, SpawnListener>();
  /** The seqs whose wrapper started: an error after that is not their end, their exit is. */
  readonly #spawned = new Set<number>();
  #seq = 0;
  #closed = false;
  #ended: Promise<void> = Promise.resolve();

  /** Asks the thread to start a wrapper; `listener` hears of it until its exit. */
  spawn(request: Omit<SpawnRequest, 'type' | 'seq'>, listener: SpawnListener): void {
    if (this.#closed) {
      listener({ type: 'failed', error: new PlugdError('PLUGD_E_CLOSED', 'the supervisor is closed') });
      return;
    }
    const seq = ++this.#seq;
    const worker = this.#thread();
    this.#listeners.set(seq, listener);
    worker.ref(); // a start or a running wrapper keeps the host alive, as a child process of its own would
    this.#post(worker, { ...request, type: 'spawn', seq });
  }

  /** The thread id of the spawner thread while it runs (diagnostics). */
  get threadId(): number | null {
    return this.#worker?.threadId ?? null;
  }

  /** Ends the thread once every wrapper it started has exited; call it after every process plugin has stopped. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#worker) {
        this.#worker.ref(); // close() is awaited: its end must not wait on a loop that has emptied
        this.#post(this.#worker, { type: 'close' });
      }
    }
    return this.#ended;
  }

  /**
   * Ends the thread at once, as a crash would (tests): each wrapper gets SIGTERM from the kernel
   * and each listener a `lost` event.
   * @internal
   */
  async crash(): Promise<void> {
    await this.#worker?.terminate();
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(ENTRY, { name: 'plugd:spawner' });
    worker.unref(); // ref'd only while it has wrappers: an idle spawner does not keep the host alive
    this.#worker = worker;
    let failure: Error | null = null;
    worker.on('message', (reply: SpawnerReply) => this.#deliver(reply));
    worker.on('error', (e) => {
      failure = e;
    });
    this.#ended = new Promise((resolve) => {
      worker.once('exit', (code) => {
        if (this.#worker === worker) this.#worker = null;
        const lost = [...this.#listeners.values()];
        this.#listeners.clear();
        if (lost.length > 0) {
          const why = failure ? `: ${failure.message}` : ` (exit code ${code})`;
          const error = new Error(
            `plugd's spawner thread ended unexpectedly${why}; the kernel sent the plugin's wrapper SIGTERM`,
            failure ? { cause: failure } : undefined,
          );
          for (const listener of lost) listener({ type: 'lost', error });
        }
        resolve();
      });
    });
    return worker;
  }

  #deliver(reply: SpawnerReply): void {
    const listener = this.#listeners.get(reply.seq);
    if (!listener) return;
    const terminal = reply.type === 'exit' || reply.type === 'failed' || (reply.type === 'error' && !this.#spawned.has(reply.seq));
    if (reply.type === 'spawned') this.#spawned.add(reply.seq);
    if (terminal) {
      this.#listeners.delete(reply.seq);
      this.#spawned.delete(reply.seq);
      if (this.#listeners.size === 0) this.#worker?.unref();
    }
    if (reply.type === 'failed' || reply.type === 'error') listener({ type: reply.type, error: rebuilt(reply.error) });
    else {
      const { seq: _, ...event } = reply;
      listener(event);
    }
  }

  #post(worker: Worker, request: SpawnerRequest): void {
    worker.postMessage(request);
  }
}

/** An Error again, with the `code` a structured clone would drop. */
function rebuilt(error: { message: string; code?: string }): Error {
  return Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code });
}
