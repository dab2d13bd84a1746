// Hand-written tar archives for hostile-archive tests: 512-byte ustar headers with any typeflag
// (GNU sparse 'S', unknown ones), which no well-behaved packer would write.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface TarEntry {
  name: string;
  /** The typeflag: '0' file, '5' folder, '2' symlink, 'S' GNU sparse, anything else. */
  type?: string;
  body?: string | Buffer;
  mode?: number;
  linkname?: string;
}

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value.slice(0, length), offset, length, 'utf8');
}

function octal(header: Buffer, offset: number, length: number, value: number): void {
  field(header, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** One entry: its ustar header, then its body padded to a whole block. */
export function tarEntry({ name, type = '0', body = '', mode = 0o644, linkname = '' }: TarEntry): Buffer {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  const header = Buffer.alloc(512);
  field(header, 0, 100, name);
  octal(header, 100, 8, mode);
  octal(header, 108, 8, 1000);
  octal(header, 116, 8, 1000);
  octal(header, 124, 12, data.length);
  octal(header, 136, 12, Math.floor(Date.now() / 1000));
  field(header, 148, 8, '        '); // the checksum counts its own field as spaces
  field(header, 156, 1, type);
  field(header, 157, 100, linkname);
  field(header, 257, 6, 'ustar\0');
  field(header, 263, 2, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return Buffer.concat([header, padded]);
}

/** Writes a gzipped archive of `entries` (ended by the two zero blocks) to `dir/name`. */
export async function writeTgz(dir: string, name: string, entries: TarEntry[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, gzipSync(Buffer.concat([...entries.map(tarEntry), Buffer.alloc(1024)])));
  return file;
}
