// Where an idle supervisor's CPU goes: N process plugins running, the host's CPU time (all its
// threads) and the wrappers' over a window, per option set. A tool for measuring, not a scenario:
//   node --import tsx bench/peers/idle-profile.ts [n] [windowMs] [variant...]
// variants: default | noprobe (watchdogMs 1 h) | nometrics
import { cpuSeconds } from './proc.js';
import { plugdTree, plugdWithServers } from './plugd-side.js';

const n = Number(process.argv[2] ?? 10);
const windowMs = Number(process.argv[3] ?? 5_000);
const variants = process.argv.slice(4);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const variant of variants.length ? variants : ['default', 'noprobe']) {
  const options = variant === 'noprobe' ? { watchdogMs: 3_600_000 } : {};
  const bench = await plugdWithServers(n, options);
  await Promise.all(bench.names.map((name) => bench.sup.enable(name)));
  await sleep(2_000);
  const { wrappers } = plugdTree();
  const c0 = { self: cpuSeconds(['self']), wrappers: cpuSeconds(wrappers) };
  const u0 = process.cpuUsage();
  await sleep(windowMs);
  const u1 = process.cpuUsage(u0);
  const c1 = { self: cpuSeconds(['self']), wrappers: cpuSeconds(wrappers) };
  console.log(
    JSON.stringify({
      variant,
      n,
      windowMs,
      hostMs: Math.round((c1.self - c0.self) * 1000),
      hostCpuUsageMs: Math.round((u1.user + u1.system) / 1000),
      wrappersMs: Math.round((c1.wrappers - c0.wrappers) * 1000),
    }),
  );
  await bench.dispose();
}
process.exit(0);
