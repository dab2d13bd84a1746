// Whether a worker whose heartbeat is overdue is hung, or only waiting for a CPU. With more
// runnable threads than cores (plugins spinning at the same nice value), a healthy thread can
// wait longer than watchdogMs to run; killing it would punish the victim. Linux tells them apart.
import { readFileSync } from 'node:fs';
import { CPU_AT_BEAT, THREAD_ID } from './wire-constants.mjs';

export interface ThreadReading {
  /** The scheduler state: R runnable, S sleeping, D uninterruptible... */
  state: string;
  /** On-CPU time since the last heartbeat, in µs. */
  cpuSinceBeatUs: number;
}

/** A starved thread gets this many times watchdogMs before it is declared hung anyway. */
export const STARVATION_CAP = 4;

/**
 * Hung at once if the thread ran without beating (it used CPU: a loop that does not yield). A
 * thread that barely ran is waiting: for a core (runnable), or off-CPU (sleeping), which is either
 * its own blocking call or a wait for resources it shares with every thread (measured: healthy
 * workers were seen off-CPU past watchdogMs while 50 others spun); it is hung past
 * STARVATION_CAP × watchdogMs. Without a reading (not Linux), overdue means hung.
 */
export function isHung(overdueMs: number, watchdogMs: number, reading: ThreadReading | null): boolean {
  if (overdueMs >= STARVATION_CAP * watchdogMs || reading === null) return true;
  // Once it runs, a healthy thread beats within microseconds; 5 ms of CPU without a beat is a loop
  // that does not yield, even with 50 threads sharing 2 cores (each then gets ~15 ms per 500 ms).
  return reading.cpuSinceBeatUs >= Math.max(5_000, watchdogMs * 10);
}

/** Reads the thread's state and CPU time from /proc (rare: only for an overdue heartbeat). */
export function readThread(slots: Int32Array): ThreadReading | null {
  const tid = Atomics.load(slots, THREAD_ID);
  if (tid === 0 || process.platform !== 'linux') return null;
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
    const cpuSinceBeatUs = ((Math.floor(ns / 1000) | 0) - Atomics.load(slots, CPU_AT_BEAT)) | 0;
    return { state, cpuSinceBeatUs };
  } catch {
    return null;
  }
}
