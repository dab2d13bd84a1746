// Where a restart after SIGKILL spends its time: from the kill to plugd's `restarting`, to the
// replacement answering on its socket, to plugd's `running`. A tool for measuring:
//   node --import tsx bench/peers/restart-profile.ts [n] [kills] [initialMs|default] [firstMs]
import { plugdWithServers } from './plugd-side.js';
import { waitForAnswer } from './proc.js';

const n = Number(process.argv[2] ?? 10);
const kills = Number(process.argv[3] ?? 5);
const initial = process.argv[4] ?? 'default';
const first = process.argv[5];
const backoff = {
  ...(initial === 'default' ? {} : { initialMs: Number(initial) }),
  ...(first === undefined ? {} : { firstMs: Number(first) }),
};
const bench = await plugdWithServers(n, { restart: { backoff } });
await Promise.all(bench.names.map((name) => bench.sup.enable(name)));
const sockets = await bench.sockets();
const at: Record<string, number> = {};
bench.sup.on('state', (e) => {
  at[`${e.name}:${e.to}`] = performance.now();
});
const rows = [];
for (let i = 0; i < kills; i++) {
  const socket = sockets[i]!;
  const pid = await waitForAnswer(socket, null, 10_000);
  const name = bench.sup.list().find((p) => socket.includes(`/${p.id.slice(0, 12)}/`))!.name;
  for (const k of Object.keys(at)) delete at[k];
  const t0 = performance.now();
  process.kill(pid, 'SIGKILL');
  await waitForAnswer(socket, pid, 30_000);
  const answered = performance.now() - t0;
  while (at[`${name}:running`] === undefined) await new Promise((r) => setTimeout(r, 5));
  rows.push({
    restarting: Math.round((at[`${name}:restarting`] ?? Number.NaN) - t0),
    activating: Math.round((at[`${name}:activating`] ?? Number.NaN) - t0),
    answered: Math.round(answered),
    running: Math.round(at[`${name}:running`]! - t0),
  });
}
console.log(JSON.stringify({ n, backoff }));
for (const r of rows) console.log(JSON.stringify(r));
await bench.dispose();
process.exit(0);
