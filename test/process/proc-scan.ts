// Finds processes by a marker unique to a test: in their command line or their environment.
import { readdirSync, readFileSync } from 'node:fs';

/** Pids of live (not zombie) processes whose command line or environment contains `marker`. */
export function marked(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (statFields(Number(entry))[0] === 'Z') continue; // a zombie has ended
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (cmdline.includes(marker) || environ.includes(marker)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** The fields of /proc/<pid>/stat after the command name: state, ppid, pgrp... */
export function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** "pid (ppid N): command line", for a failure message. */
export function describeProcess(pid: number): string {
  try {
    return `${pid} (ppid ${statFields(pid)[1]}): ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`;
  } catch {
    return `${pid} (gone)`;
  }
}

export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/**
 * Resolves once no process carries `marker`, or with those still there after `ms`. It polls
 * /proc: another process's end (one that is not our child) has no event to wait for.
 */
export async function untilNoneMarked(marker: string, ms: number): Promise<number[]> {
  const until = performance.now() + ms;
  for (;;) {
    const left = marked(marker);
    if (left.length === 0 || performance.now() > until) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
