// Follows plugins' log files (<root>/logs/<id>.log, written by the log pump thread) for
// `logs?follow=1`. One fs.watch of the logs folder, shared by every follower of every plugin, wakes
// the followers of the file that changed; each follower (log-cursor.ts) reads on from the cut its
// tail ended at. The folder is watched, not the files: the pump renames <id>.log to <id>.log.1 and
// starts a new <id>.log, which a watch on the old file would never see.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { LogCut } from '../logs/pump-protocol.js';
import { LogCursor, type LineReader } from './log-cursor.js';

/**
 * fs.watch can miss changes on Linux: past fs.inotify.max_queued_events unread events (one queue
 * for every fs.watch of the process) the kernel drops events and queues IN_Q_OVERFLOW, which
 * libuv discards without a word; and fs.watch throws once the user's inotify watches or instances
 * are used up (ENOSPC, EMFILE). So while anyone follows, every follower is also woken this often:
 * in those cases a line arrives late, never lost.
 */
const RECHECK_MS = 2_000;

/** What the registry holds now; all zero or false once the last follower stopped. */
export interface FollowersState {
  followers: number;
  /** Folder watchers open (at most one). */
  watchers: number;
  /** Whether the slow re-check timer runs. */
  rechecking: boolean;
  /** Log files held open by followers. */
  openFiles: number;
}

/** The followers of every plugin's log, and the one watcher of the logs folder they share. */
export class LogFollowers {
  readonly #logsDir: string;
  /** The followers of each plugin, by plugin id. */
  readonly #cursors = new Map<string, Set<LogCursor>>();
  #watcher: FSWatcher | null = null;
  #recheck: NodeJS.Timeout | null = null;

  constructor(logsDir: string) {
    this.#logsDir = logsDir;
  }

  /**
   * Calls `reader` with each whole line the plugin's log gets after `from` (the cut the pump gave
   * with a tail), across rotations. Returns the unfollow, which resolves once the follower's file
   * is closed (and, for the last follower, the folder watcher with it).
   */
  follow(id: string, from: LogCut, reader: LineReader): () => Promise<void> {
    // Watching before the first read: a line written after that read wakes the follower again.
    this.#watch();
    const cursor = new LogCursor(path.join(this.#logsDir, `${id}.log`), from, reader);
    let cursors = this.#cursors.get(id);
    if (!cursors) this.#cursors.set(id, (cursors = new Set()));
    cursors.add(cursor);
    cursor.wake();
    let stopped: Promise<void> | null = null;
    return () => {
      stopped ??= this.#stop(id, cursor);
      return stopped;
    };
  }

  get state(): FollowersState {
    let followers = 0;
    let openFiles = 0;
    for (const cursors of this.#cursors.values())
      for (const cursor of cursors) {
        followers += 1;
        if (cursor.isOpen) openFiles += 1;
      }
    return { followers, watchers: this.#watcher ? 1 : 0, rechecking: this.#recheck !== null, openFiles };
  }

  async close(): Promise<void> {
    const all = [...this.#cursors.values()].flatMap((cursors) => [...cursors]);
    this.#cursors.clear();
    this.#unwatch();
    await Promise.all(all.map((cursor) => cursor.stop()));
  }

  #stop(id: string, cursor: LogCursor): Promise<void> {
    const cursors = this.#cursors.get(id);
    cursors?.delete(cursor);
    if (cursors?.size === 0) this.#cursors.delete(id);
    if (this.#cursors.size === 0) this.#unwatch();
    return cursor.stop();
  }

  #watch(): void {
    if (!this.#recheck) {
      this.#recheck = setInterval(() => {
        this.#watch(); // a watcher lost to an error is made again
        this.#wake(null);
      }, RECHECK_MS);
      this.#recheck.unref();
    }
    if (this.#watcher) return;
    try {
      this.#watcher = watch(this.#logsDir, { persistent: false }, (_event, file) => this.#wake(file));
    } catch {
      return; // no inotify watch to be had: the re-check alone wakes the followers
    }
    const watcher = this.#watcher;
    watcher.on('error', () => {
      watcher.close();
      if (this.#watcher === watcher) this.#watcher = null;
    });
  }

  #unwatch(): void {
    if (this.#recheck) clearInterval(this.#recheck);
    this.#recheck = null;
    this.#watcher?.close();
    this.#watcher = null;
  }

  /** Wakes the followers of the plugin whose file changed (`<id>.log` or `<id>.log.1`), or all of them. */
  #wake(file: string | null): void {
    const id = file === null ? null : /^(.+)\.log(?:\.1)?$/.exec(file)?.[1];
    if (id === undefined) return;
    for (const [key, cursors] of this.#cursors) if (id === null || key === id) for (const cursor of cursors) cursor.wake();
  }
}
