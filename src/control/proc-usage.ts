// CPU time and memory of a plugin as Linux accounts them: a worker thread from
// /proc/self/task/<tid>, a process plugin from /proc/<pid>. Read at scrape time only.
import { readFile } from 'node:fs/promises';

const TICKS_PER_SEC = 100; // USER_HZ: 100 on every Linux Node supports

export interface Usage {
  cpuSeconds: number;
  /** Resident memory in bytes; null for a thread (threads share their process's memory). */
  rssBytes: number | null;
}

async function cpuOf(statFile: string): Promise<number | null> {
  const text = await readFile(statFile, 'latin1').catch(() => null);
  if (text === null) return null;
  // Fields after the command (which may hold spaces) start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime + stime) ? (utime + stime) / TICKS_PER_SEC : null;
}

export async function threadUsage(tid: number): Promise<Usage | null> {
  if (process.platform !== 'linux' || tid <= 0) return null;
  const cpuSeconds = await cpuOf(`/proc/self/task/${tid}/stat`);
  return cpuSeconds === null ? null : { cpuSeconds, rssBytes: null };
}

export async function processUsage(pid: number): Promise<Usage | null> {
  if (process.platform !== 'linux' || pid <= 0) return null;
  const cpuSeconds = await cpuOf(`/proc/${pid}/stat`);
  if (cpuSeconds === null) return null;
  const status = await readFile(`/proc/${pid}/status`, 'latin1').catch(() => '');
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return { cpuSeconds, rssBytes: rss ? Number(rss[1]) * 1024 : null };
}
