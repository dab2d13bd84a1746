// Reading a file of the store or of a bundle that must be a plain file of its own folder: never
// through a symlink, never a FIFO (which would block) or a device, never unbounded. O_NOFOLLOW makes
// the check and the read one step, with no window between them.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Why a file was not read: the errno code of the open, or what it turned out to be. */
export class NotPlainFile extends Error {
  readonly reason: string;

  constructor(file: string, reason: string, cause?: unknown) {
    super(`${file} ${reason}`, cause === undefined ? undefined : { cause });
    this.reason = reason;
  }
}

/** The text of `file`; NotPlainFile if it is missing, a link, not a regular file or over `maxBytes`. */
export async function readPlainFile(file: string, maxBytes: number): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new NotPlainFile(file, 'is a symlink; it must be a plain file', e);
    throw new NotPlainFile(file, code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`, e);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new NotPlainFile(file, 'is not a plain file');
    if (info.size > maxBytes) throw new NotPlainFile(file, `is larger than ${maxBytes} bytes`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
