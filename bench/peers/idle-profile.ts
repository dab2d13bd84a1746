// Where an idle supervisor's CPU goes: N process plugins running, the host's CPU time (all its
// threads) and the wrappers' over a window, per option set. A tool for measuring, not a scenario:
//   node --import tsx bench/peers/idle-profile.ts [n] [windowMs] [variant...]
// variants: default | noprobe (watchdogMs 1 h); PROFILE=file.cpuprofile profiles the main thread's window.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpuSeconds } from './proc.js';
import { plugdTree, plugdWithServers } from './plugd-side.js';

const n = Number(process.argv[2] ?? 10);
const windowMs = Number(process.argv[3] ?? 5_000);
const variants = process.argv.slice(4);
/** CPU ticks per thread of this process, by thread name. */
function threads(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${comm}#${tid}@${f[19]}`, Number(f[11]) + Number(f[12]));
    } catch {
      /* ended */
    }
  }
  return out;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const variant of variants.length ? variants : ['default', 'noprobe']) {
  const options = variant === 'noprobe' ? { watchdogMs: 3_600_000 } : {};
  const bench = await plugdWithServers(n, options);
  await Promise.all(bench.names.map((name) => bench.sup.enable(name)));
  await sleep(2_000);
  const { wrappers } = plugdTree();
  const c0 = { self: cpuSeconds(['self']), wrappers: cpuSeconds(wrappers) };
  const session = process.env.PROFILE ? new Session() : null;
  session?.connect();
  await session?.post('Profiler.enable');
  await session?.post('Profiler.start');
  const t0 = threads();
  const u0 = process.cpuUsage();
  await sleep(windowMs);
  const u1 = process.cpuUsage(u0);
  const t1 = threads();
  const byThread: Record<string, number> = {};
  for (const [k, v] of t1) if (v - (t0.get(k) ?? 0) > 0) byThread[k] = (v - (t0.get(k) ?? 0)) * 10;
  if (session) writeFileSync(`${variant}.${process.env.PROFILE}`, JSON.stringify((await session.post('Profiler.stop')).profile));
  session?.disconnect();
  const c1 = { self: cpuSeconds(['self']), wrappers: cpuSeconds(wrappers) };
  console.log(
    JSON.stringify({
      variant,
      n,
      windowMs,
      hostMs: Math.round((c1.self - c0.self) * 1000),
      hostCpuUsageMs: Math.round((u1.user + u1.system) / 1000),
      wrappersMs: Math.round((c1.wrappers - c0.wrappers) * 1000),
      byThreadMs: byThread,
    }),
  );
  await bench.dispose();
}
process.exit(0);
