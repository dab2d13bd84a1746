// The in-progress marker of a record folder: a change (an install, a removal) whose commit point,
// the index write, may not have happened yet. When the store opens, the index decides: a marked
// folder it names is kept (the marker outlived the commit), one it does not name is swept. Only
// marked folders are ever swept; an unmarked folder the index does not name is a record to recover.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from './atomic-file.js';

export const IN_PROGRESS_MARKER = '.in-progress';

/** What the marked folder is in the middle of. */
export type Change = 'install' | 'remove';

/** Marks a record folder (durably: the marker must be on disk before the index write). */
export async function markInProgress(dir: string, change: Change): Promise<void> {
  try {
    await writeJsonAtomic(path.join(dir, IN_PROGRESS_MARKER), { change });
  } catch (e) {
    // A folder that is already gone has nothing left to protect.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** The marker of a folder: null if unmarked, 'unknown' if it cannot be read. */
export async function readInProgress(dir: string): Promise<Change | 'unknown' | null> {
  let text: string;
  try {
    text = await readFile(path.join(dir, IN_PROGRESS_MARKER), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? null : 'unknown';
  }
  try {
    const { change } = JSON.parse(text) as { change?: unknown };
    return change === 'install' || change === 'remove' ? change : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Unmarks a folder once its change is committed. Losing this to a crash is harmless. */
export async function clearInProgress(dir: string): Promise<void> {
  await rm(path.join(dir, IN_PROGRESS_MARKER), { force: true });
}
