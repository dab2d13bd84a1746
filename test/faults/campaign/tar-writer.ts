// Writes tar archives byte by byte, so a test can build what no well-behaved tool would: entries
// that climb out, links out, devices, GNU sparse and unknown typeflags, pax and GNU long names.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';

export interface TarEntry {
  path: string;
  /**
   * ustar typeflag: '0' file, '1' hard link, '2' symlink, '3' char device, '4' block device,
   * '5' folder, '6' fifo, 'x' pax, 'L' GNU long name, 'S' GNU sparse...
   */
  type?: string;
  data?: string | Buffer;
  /** A file of this many zero bytes, streamed (for size bombs). */
  zeros?: number;
  linkname?: string;
  mode?: number;
  /** The old GNU magic ("ustar  \0") instead of POSIX ustar. */
  gnu?: boolean;
  devmajor?: number;
  devminor?: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

export function header(entry: TarEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  const put = (text: string, offset: number, width: number) => {
    Buffer.from(text, 'utf8').copy(block, offset, 0, width);
  };
  const type = entry.type ?? '0';
  put(entry.path, 0, 100);
  put(octal(entry.mode ?? (type === '5' ? 0o755 : 0o644), 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(1_700_000_000, 12), 136, 12);
  put('        ', 148, 8);
  put(type, 156, 1);
  put(entry.linkname ?? '', 157, 100);
  put(entry.gnu ? 'ustar  \0' : 'ustar\u000000', 257, 8);
  put('root', 265, 32);
  put('root', 297, 32);
  put(octal(entry.devmajor ?? 0, 8), 329, 8);
  put(octal(entry.devminor ?? 0, 8), 337, 8);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return block;
}

function pad(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** A pax extended header entry that sets `records` for the entry after it. */
export function pax(records: Record<string, string>): TarEntry {
  const lines = Object.entries(records).map(([key, value]) => {
    const body = ` ${key}=${value}\n`;
    let length = body.length + 1;
    while (`${length}${body}`.length !== length) length = `${length}${body}`.length;
    return `${length}${body}`;
  });
  return { path: 'PaxHeader', type: 'x', data: lines.join('') };
}

/** Writes `entries` as a .tgz at `file`. */
export async function writeTgz(file: string, entries: Iterable<TarEntry>): Promise<void> {
  const gzip = createGzip({ level: 1 });
  const out = gzip.pipe(createWriteStream(file));
  const write = async (chunk: Buffer) => {
    if (!gzip.write(chunk)) await once(gzip, 'drain');
  };
  for (const entry of entries) {
    const data = entry.data === undefined ? undefined : Buffer.from(entry.data);
    const size = data?.length ?? entry.zeros ?? 0;
    await write(header(entry, size));
    if (data) await write(data);
    else if (entry.zeros) {
      const chunk = Buffer.alloc(1 << 20);
      for (let left = entry.zeros; left > 0; left -= chunk.length) await write(left >= chunk.length ? chunk : chunk.subarray(0, left));
    }
    await write(pad(size));
  }
  await write(Buffer.alloc(1024));
  gzip.end();
  await once(out, 'close');
}
