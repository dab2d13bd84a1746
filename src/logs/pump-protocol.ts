// Messages between the supervisor and its log pump thread.
import type { MessagePort } from 'node:worker_threads';

export interface PumpOptions {
  logsDir: string;
  /** Lines kept in memory per plugin for `sup.logs()`. */
  keepLines: number;
  /** A plugin's log file is rotated (to .log.1) past this size. */
  maxFileBytes: number;
  /** The UNIX socket on which process plugins' output arrives (see process-wrapper.mjs). */
  processSocket: string;
  /** Rate limit of a process plugin's output, as for worker plugins. */
  ratePerSec: number;
  burst: number;
}

export type PumpRequest =
  | { type: 'attach'; id: string; port: MessagePort }
  | { type: 'tail'; seq: number; id: string; lines: number }
  | { type: 'forget'; id: string }
  /** The counters of a process instance whose output will arrive on the process socket. */
  | { type: 'expect'; id: string; instance: number; slots: SharedArrayBuffer }
  /** The last stderr lines of a process instance, once both its streams have closed. */
  | { type: 'stderr'; seq: number; id: string; instance: number; lines: number }
  | { type: 'listen'; seq: number }
  | { type: 'close'; seq: number };

export type PumpReply =
  | { type: 'tail'; seq: number; lines: LogLine[]; end: LogCut }
  | { type: 'stderr'; seq: number; lines: string[] }
  | { type: 'listening'; seq: number }
  | { type: 'closed'; seq: number };

/** One line of a plugin's log, as pino wrote it in the plugin's worker. */
export interface LogLine {
  level: number;
  time: number;
  plugin: string;
  instance: number;
  msg: string;
  [field: string]: unknown;
}

/**
 * Where a plugin's log file stood when the pump answered a tail: the file and its size. The tail
 * holds every line before this point and none after it, so a follower that reads on from here
 * gets each later line once.
 */
export interface LogCut {
  /** The inode of <id>.log then; 0n when there was no file. */
  ino: bigint;
  /**
   * Its birth time (ns), which tells it from a later file given the same inode once it is
   * deleted (two rotations on); 0n where the file system keeps none.
   */
  birth: bigint;
  offset: number;
}
