// Inside a plugin worker: what Linux knows of this thread. Its priority is lowered (the nice
// value is per thread, so plugins that saturate the CPU leave the host's main thread ahead), and
// its TID and on-CPU time let the watchdog tell a blocked thread from a starved one.
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';

/** This thread's TID on Linux, else 0. */
export function threadId() {
  if (process.platform !== 'linux') return 0;
  try {
    // /proc/thread-self -> "<pid>/task/<tid>"
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return 0;
  }
}

/** @param {number} tid @param {number} nice @returns {boolean} whether the priority was changed */
export function lowerThreadPriority(tid, nice) {
  if (nice <= 0 || tid === 0) return false;
  try {
    os.setPriority(tid, nice); // setpriority(PRIO_PROCESS, tid) affects this thread only
    return true;
  } catch {
    return false; // not permitted: run at normal priority
  }
}

/** This thread's on-CPU time in µs modulo 2^32 (schedstat's first field), or 0 where unknown. */
export function cpuMicros() {
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
    return Math.floor(ns / 1000) | 0;
  } catch {
    return 0;
  }
}
