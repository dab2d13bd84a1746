// Times what a process plugin's start costs the thread it runs on: the synchronous part of
// ProcessInstance.start (with a spawner thread: the request handed over), any child_process.spawn
// of a wrapper and any os.setPriority on this thread (without a spawner thread: the fork itself).
// It wraps them in this process, not in plugd's code: ESM named imports of builtins are live
// bindings, which module.syncBuiltinESMExports() updates, and the class's static method is a plain
// property. A spawn on another thread uses that thread's own bindings, so it is not counted.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

/** What is timed: `ProcessInstance` itself, or the same class from another checkout's sources. */
interface Startable {
  start(...args: never[]): unknown;
}

/** Times every start, wrapper spawn and setPriority on this thread until `restore()`. */
export function timeSpawns(processInstance: Startable) {
  const spawnMs: number[] = [];
  const niceMs: number[] = [];
  const handoffMs: number[] = [];
  const originalSpawn = childProcess.spawn;
  const originalSetPriority = os.setPriority;
  const originalStart = processInstance.start;
  processInstance.start = function timedStart(this: unknown, ...args: never[]) {
    const t0 = performance.now();
    try {
      return originalStart.apply(this, args);
    } finally {
      handoffMs.push(performance.now() - t0);
    }
  };
  childProcess.spawn = function timedSpawn(this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    const child = (originalSpawn as (...a: unknown[]) => childProcess.ChildProcess).apply(this, args);
    const elapsed = performance.now() - t0;
    if (Array.isArray(args[1]) && args[1].some((a) => /process-wrapper|plugd-wrapper/.test(String(a)))) spawnMs.push(elapsed);
    return child;
  } as typeof childProcess.spawn;
  os.setPriority = function timedSetPriority(this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    try {
      return (originalSetPriority as (...a: unknown[]) => void).apply(this, args);
    } finally {
      niceMs.push(performance.now() - t0);
    }
  } as typeof os.setPriority;
  syncBuiltinESMExports();
  return {
    spawnMs,
    niceMs,
    handoffMs,
    /** Per start, paired in order: its hand-off plus its fork on this thread, if any. */
    get perStartMs(): number[] {
      return handoffMs.map((ms, i) => ms + (spawnMs[i] ?? 0));
    },
    restore() {
      processInstance.start = originalStart;
      childProcess.spawn = originalSpawn;
      os.setPriority = originalSetPriority;
      syncBuiltinESMExports();
    },
  };
}
