// The main thread's handle on the log pump thread: it hands each new instance a log port and
// asks for tails. It never reads a plugin's lines itself.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { PlugdError } from '../errors.js';
import { PendingRequests } from '../isolation/pending-requests.js';
import type { LogCut, LogLine, PumpOptions, PumpReply, PumpRequest } from './pump-protocol.js';

const ENTRY = new URL('./entry/pump-worker.mjs', import.meta.url);

type Question = Extract<PumpRequest, { seq: number }>;
/** What a question gets once the pump thread has ended: nothing to tell. */
const ENDED: PumpReply = { type: 'tail', seq: -1, lines: [], end: { ino: 0n, birth: 0n, offset: 0 } };

export class LogPump {
  readonly #worker: Worker;
  readonly #options: PumpOptions;
  readonly #waiting = new PendingRequests<PumpReply>();
  #closed = false;

  constructor(options: PumpOptions) {
    this.#options = options;
    this.#worker = new Worker(ENTRY, { name: 'plugd:log-pump', workerData: options });
    this.#worker.unref();
    this.#worker.on('message', (reply: PumpReply) => this.#waiting.take(reply.seq)?.resolve(reply));
    this.#worker.on('error', () => {
      this.#closed = true;
    });
    this.#worker.on('exit', () => {
      this.#closed = true;
      this.#waiting.rejectAll(new PlugdError('PLUGD_E_CLOSED', 'the log pump ended'));
    });
  }

  /** A port for a new plugin instance to log into; the pump holds the other end. */
  attach(id: string): MessagePort {
    const { port1, port2 } = new MessageChannel();
    if (!this.#closed) this.#post({ type: 'attach', id, port: port2 }, [port2]);
    return port1;
  }

  /** The last `lines` lines of a plugin's log, oldest first. */
  async tail(id: string, lines: number): Promise<LogLine[]> {
    return (await this.tailAt(id, lines)).lines;
  }

  /** The last `lines` lines of a plugin's log, and where its file ended just after them (to follow on from). */
  async tailAt(id: string, lines: number): Promise<{ lines: LogLine[]; end: LogCut }> {
    if (!Number.isInteger(lines) || lines <= 0)
      throw new PlugdError('PLUGD_E_OPTION', 'option "tail" must be a positive whole number', { details: { option: 'tail' } });
    const reply = await this.#ask((seq) => ({ type: 'tail', seq, id, lines }));
    return reply.type === 'tail' ? { lines: reply.lines, end: reply.end } : { lines: [], end: { ino: 0n, birth: 0n, offset: 0 } };
  }

  /**
   * The last `lines` lines a process instance wrote to stderr (their text, oldest first), once
   * the pump has read both its streams to their end.
   */
  async stderrTail(id: string, instance: number, lines: number): Promise<string[]> {
    const reply = await this.#ask((seq) => ({ type: 'stderr', seq, id, instance, lines }));
    return reply.type === 'stderr' ? reply.lines : [];
  }

  #listening: Promise<PumpReply> | null = null;

  /** Where process plugins' output goes; the pump thread starts serving it on the first call. */
  async processSocket(): Promise<string> {
    this.#listening ??= this.#ask((seq) => ({ type: 'listen', seq }));
    await this.#listening;
    return this.#options.processSocket;
  }

  /** Shares a process instance's log counters with the pump thread. */
  expect(id: string, instance: number, slots: SharedArrayBuffer): void {
    if (!this.#closed) this.#post({ type: 'expect', id, instance, slots });
  }

  forget(id: string): void {
    if (!this.#closed) this.#post({ type: 'forget', id });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#ask((seq) => ({ type: 'close', seq }));
    this.#closed = true;
    await this.#worker.terminate();
  }

  #ask(question: (seq: number) => Question): Promise<PumpReply> {
    if (this.#closed) return Promise.reject(new PlugdError('PLUGD_E_CLOSED', 'the log pump is closed'));
    const seq = this.#waiting.nextId();
    const reply = this.#waiting.wait(seq, undefined).catch(() => ENDED);
    this.#post(question(seq));
    return reply;
  }

  #post(request: PumpRequest, transfer: MessagePort[] = []): void {
    this.#worker.postMessage(request, transfer);
  }
}
