// Crash-safe file writes: temp file, fsync, rename, fsync of the folder (the rename is the commit point).
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Whether `entry` is a temp file of writeFileAtomic (`.<name>.<12 hex>.tmp`), for `name` if given. */
export function isAtomicTemp(entry: string, name?: string): boolean {
  const match = /^\.(.+)\.[0-9a-f]{12}\.tmp$/.exec(entry);
  return match !== null && (name === undefined || match[1] === name);
}

/** fsyncs a folder so that a rename or a new entry in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `data` to `file` so that a reader sees either the old content or the new, never a mix. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await rm(temp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  await syncDir(path.dirname(file));
}

/** Writes a JSON document atomically, with a trailing newline. */
export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * fsyncs every file and folder under `dir` (symlinks are entries of their folder): a copied
 * bundle is on disk before the rename that commits its record, not only in the page cache.
 * Sixteen files at a time, so a large bundle cannot run the process out of file descriptors.
 */
export async function syncTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (let i = 0; i < entries.length; i += 16) {
    await Promise.all(
      entries.slice(i, i + 16).map(async (entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return syncTree(full);
        if (!entry.isFile()) return;
        const handle = await open(full, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }),
    );
  }
  await syncDir(dir);
}
