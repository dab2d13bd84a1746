// Follows plugins' log files (<root>/logs/<id>.log, written by the log pump thread) for
// `logs?follow=1`: one poller per followed plugin, shared by its readers, that forwards whole new
// lines as they are (the file is NDJSON already: the main thread splits at newlines, never parses).
// A rotation (the pump renames the file to .log.1) is followed by reading the old file to its end.
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

const POLL_MS = 200;
const READ_CHUNK = 64 * 1024;

type Reader = (line: Buffer) => void;

class FileTail {
  readonly #file: string;
  readonly readers = new Set<Reader>();
  #handle: FileHandle | null = null;
  #ino = 0;
  #offset = 0;
  #partial: Buffer = Buffer.alloc(0);
  #timer: NodeJS.Timeout | null = null;
  #started: Promise<void>;
  #busy = false;

  constructor(file: string) {
    this.#file = file;
    // Start at the file's current end: what is already there is the tail the request asked for.
    this.#started = this.#reopen(true);
    this.#timer = setInterval(() => void this.#poll(), POLL_MS);
    this.#timer.unref();
  }

  ready(): Promise<void> {
    return this.#started;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#started;
    await this.#handle?.close().catch(() => undefined);
    this.#handle = null;
  }

  async #reopen(atEnd: boolean): Promise<void> {
    try {
      const handle = await open(this.#file, 'r');
      const info = await handle.stat();
      await this.#handle?.close().catch(() => undefined);
      this.#handle = handle;
      this.#ino = info.ino;
      this.#offset = atEnd ? info.size : 0;
      this.#partial = Buffer.alloc(0);
    } catch {
      // Not written yet: the next poll tries again, from the start of the file.
    }
  }

  async #poll(): Promise<void> {
    if (this.#busy || this.#timer === null) return;
    this.#busy = true;
    try {
      if (!this.#handle) {
        await this.#reopen(false);
        if (!this.#handle) return;
      }
      await this.#drain();
      const current = await stat(this.#file).catch(() => null);
      if (current && current.ino !== this.#ino) {
        await this.#reopen(false); // rotated: the old file was read to its end above
        await this.#drain();
      }
    } finally {
      this.#busy = false;
    }
  }

  async #drain(): Promise<void> {
    const handle = this.#handle!;
    for (;;) {
      const buffer = Buffer.allocUnsafe(READ_CHUNK);
      const { bytesRead } = await handle.read(buffer, 0, READ_CHUNK, this.#offset).catch(() => ({ bytesRead: 0 }));
      if (bytesRead === 0) return;
      this.#offset += bytesRead;
      this.#split(buffer.subarray(0, bytesRead));
      if (bytesRead < READ_CHUNK) return;
    }
  }

  #split(chunk: Buffer): void {
    let data = this.#partial.length > 0 ? Buffer.concat([this.#partial, chunk]) : chunk;
    let nl: number;
    while ((nl = data.indexOf(10)) !== -1) {
      const line = data.subarray(0, nl + 1);
      data = data.subarray(nl + 1);
      for (const reader of this.readers) reader(line);
    }
    this.#partial = Buffer.from(data);
  }
}

/** The shared pollers of every followed plugin log. */
export class LogFollowers {
  readonly #logsDir: string;
  readonly #tails = new Map<string, FileTail>();

  constructor(logsDir: string) {
    this.#logsDir = logsDir;
  }

  /** Calls `reader` with each whole line appended to the plugin's log from now on; resolves to the unsubscribe once following. */
  async follow(id: string, reader: Reader): Promise<() => void> {
    let tail = this.#tails.get(id);
    if (!tail) {
      tail = new FileTail(path.join(this.#logsDir, `${id}.log`));
      this.#tails.set(id, tail);
    }
    tail.readers.add(reader);
    await tail.ready();
    const owner = tail;
    return () => {
      owner.readers.delete(reader);
      if (owner.readers.size === 0 && this.#tails.get(id) === owner) {
        this.#tails.delete(id);
        void owner.stop();
      }
    };
  }

  async close(): Promise<void> {
    const tails = [...this.#tails.values()];
    this.#tails.clear();
    await Promise.all(tails.map((t) => t.stop()));
  }
}
