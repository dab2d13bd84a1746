// One supervisor per store. A second one on the same root would sweep the first one's unfinished
// installs as crash debris, race its index writes and take over its log socket. The lock is a
// file naming its owner (pid, the process's start time, host), as dockerd's pidfile does; a
// lock whose owner is gone is stale and taken over, so a host killed with SIGKILL starts again.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { PlugdError } from '../errors.js';

export const LOCK_FILE = 'plugd.lock';

/** What the lock file holds. */
export interface LockOwner {
  pid: number;
  /** The owner's start time in clock ticks since boot (Linux), to tell a reused pid. */
  startTime: string | null;
  host: string;
  since: string;
}

export class StoreLock {
  readonly file: string;
  readonly #owner: LockOwner;

  private constructor(file: string, owner: LockOwner) {
    this.file = file;
    this.#owner = owner;
  }

  /** Takes the lock on `root`, or rejects with PLUGD_E_STORE_LOCKED naming the live owner. */
  static async acquire(root: string): Promise<StoreLock> {
    const file = path.join(root, LOCK_FILE);
    const owner: LockOwner = { pid: process.pid, startTime: startTimeOf(process.pid), host: hostname(), since: new Date().toISOString() };
    const temp = path.join(root, `.${LOCK_FILE}.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temp, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
    try {
      // link() creates the lock with its whole content, or fails if one exists: no torn lock file.
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await link(temp, file);
          return new StoreLock(file, owner);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const holder = await readOwner(file);
        if (holder === 'gone') continue; // released meanwhile: try again
        if (holder !== 'unreadable' && isAlive(holder)) throw lockedError(file, holder);
        // Stale (or torn by a crash of another plugd version): replace it in one step, then make
        // sure another contender did not replace it after us.
        await rename(temp, file);
        const now = await readOwner(file);
        if (typeof now === 'object' && sameOwner(now, owner)) return new StoreLock(file, owner);
        throw lockedError(file, typeof now === 'object' ? now : null);
      }
      throw lockedError(file, null);
    } catch (e) {
      if (e instanceof PlugdError) throw e;
      throw new PlugdError('PLUGD_E_STORE', `cannot lock the store at ${root}: ${(e as Error).message}`, { cause: e });
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Removes the lock if it is still this owner's. */
  async release(): Promise<void> {
    const holder = await readOwner(this.file);
    if (typeof holder === 'object' && sameOwner(holder, this.#owner)) await rm(this.file, { force: true });
  }
}

function lockedError(file: string, holder: LockOwner | null): PlugdError {
  const who = holder ? `process ${holder.pid} on ${holder.host} (since ${holder.since})` : 'another supervisor';
  return new PlugdError('PLUGD_E_STORE_LOCKED', `the store is in use by ${who}; one supervisor per root (lock: ${file})`, {
    details: { file, owner: holder },
  });
}

/**
 * Whether the temp file of a lock attempt was left by a process that has ended (killed between
 * writing it and removing it): it names its writer, as the lock does. One cut short in the middle
 * of its write names nobody, and is judged by its age: a live writer holds it for milliseconds.
 */
export async function isLeftByDeadAttempt(temp: string, now = Date.now()): Promise<boolean> {
  const writer = await readOwner(temp).catch(() => 'gone' as const);
  if (writer === 'gone') return false;
  if (writer !== 'unreadable') return !isAlive(writer);
  const info = await stat(temp).catch(() => null);
  return info !== null && now - info.mtimeMs > TORN_ATTEMPT_MS;
}

/** How old a lock attempt's temp file with no readable writer must be to be swept. */
const TORN_ATTEMPT_MS = 5_000;

async function readOwner(file: string): Promise<LockOwner | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    return Number.isInteger(owner.pid) && typeof owner.host === 'string' ? owner : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

function sameOwner(a: LockOwner, b: LockOwner): boolean {
  return a.pid === b.pid && a.host === b.host && a.since === b.since && a.startTime === b.startTime;
}

/** Whether the owner may still run. A lock from another host is never judged stale from here. */
function isAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // The pid runs; it is the owner only if it started when the owner did (pids are reused).
  const startTime = startTimeOf(owner.pid);
  return owner.startTime === null || startTime === null || startTime === owner.startTime;
}

/** Field 22 of /proc/<pid>/stat (after the command name, which may hold spaces); null off Linux. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
