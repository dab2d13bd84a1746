// Whether a plugin process's event loop is blocked: it must answer a ping. A silence past
// watchdogMs is judged by the process's CPU time in /proc, with hang-verdict.ts's rules for
// threads: hung once it has run its CPU budget without answering (a loop that does not yield),
// or past STARVATION_CAP × watchdogMs; a process only waiting for a core is given the time.
// /proc is read only once a ping is overdue: an answered ping (nearly every one) costs nothing
// but itself, which is what keeps an idle supervisor of many process plugins cheap.
import { readdir, readFile } from 'node:fs/promises';
import { cpuBudgetUs, type HangReason, hangVerdict } from './hang-verdict.js';

/**
 * Sends a ping with `ping()` (which returns the promise of its answer, or null when it cannot be
 * sent) and resolves true when it is answered or the process ends, false when it is hung.
 */
export async function answersPing(
  pid: number,
  watchdogMs: number,
  ended: Promise<unknown>,
  ping: () => Promise<void> | null,
  read: ProcessReader = readMainThread,
): Promise<boolean> {
  return (await pingVerdict(pid, watchdogMs, ended, ping, read)) === null;
}

/**
 * As answersPing, with the reason: null when the ping is answered or the process ends, else why
 * it is hung. The CPU time counts from the moment the ping is overdue (the first reading), so
 * the first verdict comes after that reading plus twice the CPU budget, the time a loop with a
 * core of its own takes to use it; a process that gets less of a core is judged every quarter of
 * watchdogMs after that, until STARVATION_CAP × watchdogMs from the ping.
 */
export async function pingVerdict(
  pid: number,
  watchdogMs: number,
  ended: Promise<unknown>,
  ping: () => Promise<void> | null,
  read: ProcessReader = readMainThread,
): Promise<HangReason | null> {
  const sentAt = performance.now();
  const pong = ping();
  if (!pong) return null; // ending: its exit reports why
  // Only the ping at first: a handler on `ended`, which lives as long as the instance, is added
  // once a ping is overdue, or every answered probe would leave one behind.
  if (await settlesWithin(pong, watchdogMs)) return null;
  const over = Promise.race([pong, ended]);
  const before = await read(pid);
  let wait = Math.min(watchdogMs / 4, (2 * cpuBudgetUs(watchdogMs)) / 1000);
  for (;;) {
    // Without a first reading, there is nothing to wait for: /proc cannot tell.
    if (before !== null && (await settlesWithin(over, wait))) return null;
    const now = before === null ? null : await read(pid);
    const reading = before && now ? { state: now.state, cpuSinceBeatUs: now.cpuUs - before.cpuUs } : null;
    if (await settlesWithin(over, 0)) return null;
    const verdict = hangVerdict(performance.now() - sentAt, watchdogMs, reading);
    if (verdict !== null) return verdict;
    wait = watchdogMs / 4;
  }
}

/** True once `promise` settles within `ms`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const yes = () => {
      clearTimeout(timer);
      resolve(true);
    };
    void promise.then(yes, yes);
  });
}

/** A process's scheduler state and on-CPU time (µs), or null where /proc cannot tell. */
export type ProcessReader = (pid: number) => Promise<{ state: string; cpuUs: number } | null>;

/**
 * Every thread of the process: its main thread's state and the on-CPU time of all of them. For
 * process plugins, whose serving thread need not be the main one (a Go or Java plugin).
 */
export async function readAllThreads(pid: number): Promise<{ state: string; cpuUs: number } | null> {
  if (process.platform !== 'linux') return null;
  try {
    const main = await readMainThread(pid);
    if (main === null) return null;
    const tids = await readdir(`/proc/${pid}/task`);
    const ns = await Promise.all(
      tids.map((tid) =>
        readFile(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').then(
          (t) => Number(t.split(' ')[0]),
          () => 0,
        ),
      ),
    );
    return { state: main.state, cpuUs: Math.floor(ns.reduce((a, b) => a + b, 0) / 1000) };
  } catch {
    return null;
  }
}

/** The process's main (JavaScript) thread: its scheduler state and on-CPU time, from /proc. */
export async function readMainThread(pid: number): Promise<{ state: string; cpuUs: number } | null> {
  if (process.platform !== 'linux') return null;
  try {
    const [stat, schedstat] = await Promise.all([readFile(`/proc/${pid}/stat`, 'latin1'), readFile(`/proc/${pid}/schedstat`, 'latin1')]);
    const at = stat.lastIndexOf(')') + 2;
    return { state: stat.slice(at, at + 1), cpuUs: Math.floor(Number(schedstat.split(' ')[0]) / 1000) };
  } catch {
    return null;
  }
}
