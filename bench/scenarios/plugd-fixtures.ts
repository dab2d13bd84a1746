// Supervisors and plugins for the scenarios: fresh stores with N copies of the noop plugin.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createSupervisor, type Supervisor, type SupervisorOptions } from '../../src/index.js';

export const NOOP_BUNDLE = fileURLToPath(new URL('../bundles/noop/', import.meta.url));
export const NOOP_ENTRY = path.join(NOOP_BUNDLE, 'index.mjs');
export const FLOOD_BUNDLE = fileURLToPath(new URL('../../examples/bundles/flood/', import.meta.url));

export interface BenchSupervisor {
  sup: Supervisor;
  names: string[];
  dispose(): Promise<void>;
}

/** Installs `count` copies of the bundle at `source`, named `<prefix>-<i>`, from copies under `dir`; returns their names. */
export async function installCopies(sup: Supervisor, dir: string, source: string, prefix: string, count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}-${i}`;
    const bundle = path.join(dir, 'bundles', name);
    await cp(source, bundle, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(bundle, 'plugin.json'), 'utf8'));
    await writeFile(path.join(bundle, 'plugin.json'), JSON.stringify({ ...manifest, name }));
    await sup.install(bundle);
    names.push(name);
  }
  return names;
}

/** A supervisor on a temp store with `count` noop plugins installed (not enabled). */
export async function supervisorWithPlugins(count: number, options: Partial<SupervisorOptions> = {}): Promise<BenchSupervisor> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugd-bench-'));
  const sup = await createSupervisor({ root: path.join(dir, 'store'), logger: pino({ level: 'silent' }), restore: false, ...options });
  const names = await installCopies(sup, dir, NOOP_BUNDLE, 'noop', count);
  return {
    sup,
    names,
    async dispose() {
      await sup.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Enables all at once; resolves with the total time and each enable's latency. */
export async function enableAll(sup: Supervisor, names: string[]): Promise<{ totalMs: number; latencies: number[] }> {
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    names.map(async (name) => {
      const start = performance.now();
      await sup.enable(name);
      latencies.push(performance.now() - start);
    }),
  );
  return { totalMs: performance.now() - t0, latencies };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
