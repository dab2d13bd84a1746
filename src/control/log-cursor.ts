// One follower's place in a plugin's log: <id>.log, which the log pump renames to <id>.log.1 past
// its size limit before it starts a new one. The cursor starts at the cut the pump gave with the
// tail (a file by inode, an offset), reads on from there and steps from each rotated file to the
// next, so every line after the cut reaches its reader once. It splits at newlines, never parses.
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { LogCut } from '../logs/pump-protocol.js';

const READ_CHUNK = 64 * 1024;
const NOTHING = Buffer.alloc(0);

/** A file's identity: its inode, and its birth time for when a deleted file's inode is reused. */
interface FileId {
  ino: bigint;
  birth: bigint;
}

interface OpenFile extends FileId {
  handle: FileHandle;
  size: number;
}

const same = (a: FileId, b: FileId) => a.ino === b.ino && a.birth === b.birth;

export type LineReader = (line: Buffer) => void;

export class LogCursor {
  readonly #file: string;
  readonly #reader: LineReader;
  /** Where to start, until the first file is opened. */
  readonly #from: LogCut;
  #current: OpenFile | null = null;
  #offset = 0;
  #partial = NOTHING;
  #buffer: Buffer | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  /** `file` is the plugin's <logsDir>/<id>.log; nothing is read before the first wake(). */
  constructor(file: string, from: LogCut, reader: LineReader) {
    this.#file = file;
    this.#from = from;
    this.#reader = reader;
  }

  /** Whether it holds a log file open. */
  get isOpen(): boolean {
    return this.#current !== null;
  }

  /** Reads what was written since the last read; a wake during a read makes it read once more after. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#run();
  }

  /** Stops reading; resolves once its file is closed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    const current = this.#current;
    this.#current = null;
    await current?.handle.close().catch(() => undefined);
  }

  async #run(): Promise<void> {
    try {
      do {
        this.#again = false;
        // A failed read or stat (a file removed under us) is retried on the next wake.
        await this.#step().catch(() => undefined);
      } while (this.#again && !this.#stopped);
    } finally {
      // In the same turn as the loop's last check: a wake from now on starts a new run.
      this.#running = null;
    }
  }

  async #step(): Promise<void> {
    if (!this.#current && !(await this.#openAtCut())) return;
    await this.#readToEnd();
    for (;;) {
      const now = await stat(this.#file, { bigint: true }).then(
        (s) => ({ ino: s.ino, birth: s.birthtimeNs }),
        () => null,
      );
      // Missing: mid-rotation (the new file's creation wakes us) or removed with its plugin.
      if (this.#stopped || now === null || same(now, this.#current!)) return;
      // Renamed away: the pump wrote its last line to it before the rename, so what is left is read now.
      await this.#readToEnd();
      if (!(await this.#openNext())) return;
      await this.#readToEnd();
    }
  }

  /** Opens the file that held the cut: still <id>.log, or rotated to <id>.log.1 since. */
  async #openAtCut(): Promise<boolean> {
    const cut = this.#from;
    const log = await openFile(this.#file);
    if (log && cut.ino === 0n) return this.#use(log, 0, null); // no file at the cut: all of the first one is new
    if (log && same(log, cut) && log.size >= cut.offset) return this.#use(log, cut.offset, null);
    const old = await openFile(`${this.#file}.1`);
    if (old && same(old, cut)) return this.#use(old, cut.offset, log);
    // The cut's file was rotated away twice before we got to it: its lines after the cut are gone
    // from disk. Go on from the oldest file there is.
    return old ? this.#use(old, 0, log) : log ? this.#use(log, 0, null) : false;
  }

  /**
   * Opens the file that came after the current one. While the current file is still linked (as
   * <id>.log.1), the next one cannot have been rotated yet, so it is <id>.log; once unlinked, the
   * next one was rotated onto <id>.log.1 in turn, and the older of the two files there comes next.
   */
  async #openNext(): Promise<boolean> {
    const log = await openFile(this.#file);
    if (!log) return false; // mid-rotation: the new file's creation wakes us
    if (await linked(this.#current!.handle)) return this.#use(log, 0, null);
    const old = await openFile(`${this.#file}.1`);
    return old && !same(old, log) && (await linked(log.handle)) ? this.#use(old, 0, log) : this.#use(log, 0, old);
  }

  async #use(file: OpenFile, offset: number, other: OpenFile | null): Promise<boolean> {
    await other?.handle.close().catch(() => undefined);
    await this.#current?.handle.close().catch(() => undefined);
    if (this.#stopped) {
      this.#current = null;
      await file.handle.close().catch(() => undefined);
      return false;
    }
    this.#current = file;
    this.#offset = offset;
    this.#partial = NOTHING; // the pump writes whole lines: no line spans two files
    return true;
  }

  async #readToEnd(): Promise<void> {
    const { handle } = this.#current!;
    this.#buffer ??= Buffer.allocUnsafe(READ_CHUNK);
    while (!this.#stopped) {
      const { bytesRead } = await handle.read(this.#buffer, 0, READ_CHUNK, this.#offset);
      if (bytesRead === 0) return;
      this.#offset += bytesRead;
      // Copied to its size: a line queued to a slow reader keeps its chunk alive, and a whole
      // 64 KiB buffer per line read one at a time would be far past the follower's bound.
      this.#split(Buffer.from(this.#buffer.subarray(0, bytesRead)));
      if (bytesRead < READ_CHUNK) return; // a short read of a regular file is its end
    }
  }

  #split(chunk: Buffer): void {
    let data = this.#partial.length > 0 ? Buffer.concat([this.#partial, chunk]) : chunk;
    let nl: number;
    while ((nl = data.indexOf(10)) !== -1) {
      if (!this.#stopped) this.#reader(data.subarray(0, nl + 1));
      data = data.subarray(nl + 1);
    }
    this.#partial = data.length > 0 ? Buffer.from(data) : NOTHING;
  }
}

async function openFile(file: string): Promise<OpenFile | null> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return null;
  try {
    const info = await handle.stat({ bigint: true });
    return { handle, ino: info.ino, birth: info.birthtimeNs, size: Number(info.size) };
  } catch {
    await handle.close().catch(() => undefined);
    return null;
  }
}

/** Whether an open file still has a name in its folder (a rotation onto it unlinks it). */
function linked(handle: FileHandle): Promise<boolean> {
  return handle.stat({ bigint: true }).then(
    (info) => info.nlink > 0n,
    () => true,
  );
}
