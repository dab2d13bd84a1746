// The demo host: embeds a supervisor with the example bundles (one well-behaved, one that
// crashes, one that hangs, one that floods its logs), calls them for a few seconds, prints each
// state change, restart and watchdog kill as it happens, then a summary table.
//
//   npm start                      # a fresh temp store, 6 s of traffic
//   npm start -- --seconds 10 --root ./.plugd-demo
//   npm start -- --docker          # also a container plugin (needs a Docker Engine:
//                                  # sudo scripts/docker-engine.sh start)
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSupervisor, type PluginClient, type StateEvent } from '../src/index.js';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '6' }, root: { type: 'string' }, docker: { type: 'boolean', default: false } },
});
const seconds = Number(args.seconds);
const BUNDLES = fileURLToPath(new URL('./bundles/', import.meta.url));
const root = args.root ?? (await mkdtemp(path.join(os.tmpdir(), 'plugd-demo-')));
const started = performance.now();
const stamp = () => `[${((performance.now() - started) / 1000).toFixed(2).padStart(6)}s]`;

const sup = await createSupervisor({
  root,
  logger: false, // the demo prints its own timeline from the state events
  watchdogMs: 500,
  callTimeoutMs: 3_000,
  memoryLimitMb: 64,
  logs: { ratePerSec: 1_000, burst: 2_000 },
  // The web inspector, served while the demo runs (PLUGD_INSPECTOR_PORT picks its port).
  control: { inspector: { port: Number(process.env.PLUGD_INSPECTOR_PORT ?? 0) } },
});

sup.on('state', (e: StateEvent) => {
  let line = `${stamp()} ${e.name.padEnd(6)} ${String(e.from).padEnd(10)} -> ${e.to}`;
  if (e.error?.code === 'PLUGD_E_PLUGIN_HUNG') line += `   WATCHDOG KILL: ${e.error.message}`;
  else if (e.error) line += `   (${e.error.code})`;
  if (e.from === 'restarting' && e.to === 'activating') line += `   restart #${e.restarts}`;
  if (e.to === 'disabled' && sup.inspect(e.name).gaveUp) line += `   gave up: ${sup.inspect(e.name).gaveUp}`;
  console.log(line);
});

console.log(`plugd demo: store at ${root}`);
console.log(`inspector: ${sup.inspectorUrl}\n`);
for (const name of ['hello', 'flaky', 'hang', 'flood']) {
  // A kept store (--root) already holds them: the restore has started them again.
  const kept = sup.list().find((p) => p.name === name);
  if (kept) {
    console.log(`${stamp()} ${name} is in the kept store (${kept.id.slice(0, 12)})`);
    continue;
  }
  const { id } = await sup.install(path.join(BUNDLES, name));
  console.log(`${stamp()} installed ${name} (${id.slice(0, 12)})`);
}

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
await Promise.all(['hello', 'flaky', 'hang', 'flood'].map((name) => sup.enable(name)));

// --docker: the example volume driver as a container plugin, if an engine answers.
let volumes: PluginClient | null = null;
if (args.docker) {
  if (!sup.list().some((p) => p.name === 'volumes-container')) await sup.install(path.join(BUNDLES, 'volumes-container'));
  try {
    await sup.enable('volumes-container');
    volumes = await sup.get('volumes-container', 'VolumeDriver');
    await volumes.call('VolumeDriver.Create', { Name: 'demo' });
  } catch (e) {
    console.log(
      `${stamp()} no container plugin: ${(e as Error).message}\n           start an engine with: sudo scripts/docker-engine.sh start`,
    );
    await sup.disable('volumes-container').catch(() => undefined);
  }
}

const tally = new Map<string, { ok: number; failed: Map<string, number> }>();
async function call(client: PluginClient, method: string, body: unknown): Promise<void> {
  const t = tally.get(client.name) ?? { ok: 0, failed: new Map() };
  tally.set(client.name, t);
  try {
    await client.call(method, body);
    t.ok += 1;
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'Error';
    t.failed.set(code, (t.failed.get(code) ?? 0) + 1);
  }
}

const hello = await sup.get('hello', 'Greeter');
const flaky = await sup.get('flaky', 'Counter');
const clock = await sup.get('hang', 'Clock');
const deadline = performance.now() + seconds * 1000;
const inFlight = new Set<Promise<void>>();
while (performance.now() < deadline) {
  const calls = [call(hello, 'Greeter.Hello', { name: 'Ada' }), call(flaky, 'Counter.Next', {}), call(clock, 'Clock.Now', {})];
  if (volumes) calls.push(call(volumes, 'VolumeDriver.List', {}));
  for (const p of calls) {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }
  await new Promise((resolve) => setTimeout(resolve, 150));
}
await Promise.all(inFlight);
delay.disable();

// ── summary ──────────────────────────────────────────────────────────────────────────────
const rows = sup.list().map((p) => {
  const t = tally.get(p.name);
  const failed = t ? [...t.failed].map(([code, n]) => `${n}×${code.replace('PLUGD_E_', '')}`).join(' ') : '';
  return {
    plugin: p.name,
    state: p.state,
    policy: p.restartPolicy,
    restarts: p.restarts,
    'calls ok': t?.ok ?? '-',
    'calls failed': failed || (t ? '0' : '-'),
    'last error': p.lastError?.code ?? '',
    'log lines': p.logs.lines,
    dropped: p.logs.dropped,
  };
});
console.log('\nsummary');
console.table(rows);
// Each sample is the time between two 10 ms ticks: the delay is what exceeds the 10 ms.
const ms = (ns: number) => `${Math.max(0, ns / 1e6 - 10).toFixed(1)} ms`;
console.log(
  `host main-thread event-loop delay (beyond a 10 ms timer) while plugins crashed, hung and flooded: p50 ` +
    `${ms(delay.percentile(50))}, p99 ${ms(delay.percentile(99))}, max ${ms(delay.max)}`,
);

for (const name of volumes ? ['hello', 'flood', 'volumes-container'] : ['hello', 'flood']) {
  const lines = await sup.logs(name, { tail: 2 });
  console.log(`last log lines of ${name}:`);
  for (const l of lines) console.log(`  ${JSON.stringify(l)}`);
}

console.log(`\n${stamp()} closing (reverse dependency order)`);
await sup.close();
if (!args.root) await rm(root, { recursive: true, force: true });
console.log(`${stamp()} closed`);
