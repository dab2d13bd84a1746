// One NDJSON response that stays open (a follower of logs or events). Writes never wait on the
// reader: past `maxBufferedBytes` unsent, lines are dropped and counted, and the reader is told
// how many once it catches up. A slow reader costs a bounded buffer, never the host's memory or
// other readers' time.
import type { ServerResponse } from 'node:http';

export const DEFAULT_FOLLOWER_BUFFER = 256 * 1024;

export class NdjsonStream {
  readonly #res: ServerResponse;
  readonly #max: number;
  readonly #onDrop: () => void;
  #dropped = 0;
  #closed = false;
  readonly closed: Promise<void>;

  /** `onDrop` is told of each dropped line (the metrics count them). */
  constructor(res: ServerResponse, maxBufferedBytes = DEFAULT_FOLLOWER_BUFFER, onDrop: () => void = () => undefined) {
    this.#res = res;
    this.#max = maxBufferedBytes;
    this.#onDrop = onDrop;
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.flushHeaders();
    this.closed = new Promise((resolve) => {
      const done = () => {
        this.#closed = true;
        resolve();
      };
      // A client that hung up while the route awaited (the log tail) has had its 'close' already.
      if (res.destroyed) done();
      res.once('close', done);
      res.once('error', done);
    });
    res.on('drain', () => this.#tellDropped());
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Writes an object as one line. */
  send(value: unknown): void {
    this.sendRaw(`${JSON.stringify(value)}\n`);
  }

  /** Writes one line that is already JSON ending in "\n". */
  sendRaw(line: string | Buffer): void {
    if (this.#closed) return;
    if (this.#res.writableLength > this.#max) {
      this.#dropped += 1;
      this.#onDrop();
      return;
    }
    this.#tellDropped();
    this.#res.write(line);
  }

  end(): void {
    if (this.#closed) return;
    this.#tellDropped();
    this.#res.end();
  }

  #tellDropped(): void {
    if (this.#dropped === 0 || this.#closed) return;
    const dropped = this.#dropped;
    this.#dropped = 0;
    this.#res.write(`${JSON.stringify({ dropped, msg: `${dropped} lines dropped: this reader fell behind` })}\n`);
  }
}
