// Process trees, RSS and CPU time read from /proc (Linux), and Docker's handshake on a socket:
// what the peers bench measures both supervisors with.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

let ticksPerSecond: number | null = null;
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** One process's stat line, or null when it is gone. */
export function stat(pid: number | 'self'): ProcInfo | null {
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return { pid: pid === 'self' ? process.pid : pid, ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

/** Every live process, by pid. */
export function processTable(): Map<number, ProcInfo> {
  const table = new Map<number, ProcInfo>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = stat(Number(entry));
    if (info) table.set(info.pid, info);
  }
  return table;
}

/** The pids below `root` (not `root` itself). */
export function descendants(root: number, table = processTable()): number[] {
  const children = new Map<number, number[]>();
  for (const p of table.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

export function childrenOf(pid: number, table = processTable()): number[] {
  return [...table.values()].filter((p) => p.ppid === pid).map((p) => p.pid);
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/** VmRSS of one process in bytes (0 when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Pss of one process in bytes (its private pages plus its share of pages shared with others), 0 when gone. */
export function pssBytes(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const sumRss = (pids: number[]) => pids.reduce((sum, pid) => sum + rssBytes(pid), 0);

/** CPU seconds used so far by these processes (those gone count 0). */
export function cpuSeconds(pids: (number | 'self')[]): number {
  return pids.reduce((sum: number, pid) => sum + (stat(pid)?.cpuTicks ?? 0), 0) / clockTicks();
}

/** POST /<method> on a UNIX socket with a fresh connection; the JSON answer, or null on any error. */
export function post(socketPath: string, method: string, timeoutMs = 1_000): Promise<Record<string, unknown> | null> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        socketPath,
        path: `/${method}`,
        method: 'POST',
        agent: false,
        timeout: timeoutMs,
        headers: { accept: 'application/vnd.docker.plugins.v1.2+json', 'content-type': 'application/json' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          try {
            resolve(res.statusCode === 200 ? JSON.parse(body) : null);
          } catch {
            resolve(null);
          }
        });
        res.on('error', () => resolve(null));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end('{}');
  });
}

/** Polls the socket every `everyMs` until a process other than `notPid` answers; its pid. */
export async function waitForAnswer(socketPath: string, notPid: number | null, deadlineMs: number, everyMs = 1): Promise<number> {
  const giveUpAt = performance.now() + deadlineMs;
  for (;;) {
    const answer = await post(socketPath, 'Bench.Pid', 500);
    const pid = typeof answer?.Pid === 'number' ? answer.Pid : null;
    if (pid !== null && pid !== notPid) return pid;
    if (performance.now() > giveUpAt) throw new Error(`nothing answered on ${socketPath} within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Live processes whose PLUGD_SOCKET lies under `dir`: plugin processes of that store. */
export function processesServing(dir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
    } catch {
      continue;
    }
    const socket = environ.split('\0').find((v) => v.startsWith('PLUGD_SOCKET='));
    if (socket?.slice('PLUGD_SOCKET='.length).startsWith(`${dir}/`)) out.push(Number(entry));
  }
  return out;
}

/** The thread ids of `pid` (none once it has ended). */
export function tidsOf(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** On-CPU time (ns, from schedstat) of each live thread of `pid`, by tid. */
export function threadCpuNs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of tidsOf(pid)) {
    try {
      out.set(Number(tid), Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]));
    } catch {
      /* ended */
    }
  }
  return out;
}
