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
 * The CPU time a thread may run without beating before it is hung: a twentieth of watchdogMs,
 * and at least 20 ms (a module load). Starved to a few % of a core (the host or other plugins
 * saturating the cores), a 20 ms job takes a second of wall time and must not be called hung for
 * it. A larger share let 50 spinning plugins on 2 cores go undetected past 2 × watchdogMs.
 */
export const CPU_BUDGET_SHARE = 0.05;
export const CPU_BUDGET_MIN_US = 20_000;

/**
 * Hung once the thread has used its CPU budget without beating: a loop that does not yield,
 * measured in its own time rather than the wall clock's. A thread that ran less is waiting: for
 * a core (runnable), or off-CPU (sleeping), which is either its own blocking call or a wait for
 * resources it shares with every thread (measured: healthy workers were seen off-CPU past
 * watchdogMs while 50 others spun); it is hung past STARVATION_CAP × watchdogMs. Without a
 * reading (not Linux), overdue means hung.
 */
export function isHung(overdueMs: number, watchdogMs: number, reading: ThreadReading | null): boolean {
  return hangVerdict(overdueMs, watchdogMs, reading) !== null;
}

/**
 * Why a silent thread or process is hung, or null while it is not: `cpu-budget` (it ran its CPU
 * budget without answering), `starvation-cap` (silent past STARVATION_CAP × watchdogMs however
 * little it ran), `unobservable` (overdue, and /proc cannot tell: not Linux, or no pid yet).
 */
export type HangReason = 'cpu-budget' | 'starvation-cap' | 'unobservable';

export function hangVerdict(overdueMs: number, watchdogMs: number, reading: ThreadReading | null): HangReason | null {
  if (reading === null) return 'unobservable';
  if (reading.cpuSinceBeatUs >= cpuBudgetUs(watchdogMs)) return 'cpu-budget';
  return overdueMs >= STARVATION_CAP * watchdogMs ? 'starvation-cap' : null;
}

export function cpuBudgetUs(watchdogMs: number): number {
  return Math.max(CPU_BUDGET_MIN_US, watchdogMs * 1000 * CPU_BUDGET_SHARE);
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
