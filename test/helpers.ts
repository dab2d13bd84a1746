// Shared test plumbing: temp stores, fixture bundles copied with manifest overrides, a
// cleanups list closed after each test, and waiting for state events instead of sleeping.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import { createSupervisor, type StateEvent, type Supervisor, type SupervisorOptions } from '../src/index.js';
import type { PluginStateName } from '../machines/types.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/bundles/', import.meta.url));
export const EXAMPLES = fileURLToPath(new URL('../examples/bundles/', import.meta.url));
export const silent = pino({ level: 'silent' });

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** Registers something to undo after the current test. */
export function onCleanup(fn: () => Promise<unknown> | unknown): void {
  cleanups.push(fn);
}

export async function tempDir(prefix = 'plugd-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Copies a bundle (a fixture's name, or a path) to a temp folder, with plugin.json fields
 * replaced by `overrides`.
 */
export async function bundle(fixture: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const source = path.isAbsolute(fixture) ? fixture : path.join(FIXTURES, fixture);
  const dir = path.join(await tempDir('plugd-bundle-'), path.basename(source));
  await cp(source, dir, { recursive: true });
  if (Object.keys(overrides).length > 0) {
    const file = path.join(dir, 'plugin.json');
    const manifest = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...manifest, ...overrides }, null, 2));
  }
  return dir;
}

/** A supervisor on a temp store (fresh unless `root` is given), its restore done, closed after the test. */
export async function supervisor(options: Partial<SupervisorOptions> = {}): Promise<Supervisor> {
  const root = options.root ?? path.join(await tempDir(), 'store');
  const sup = await createSupervisor({ logger: silent, ...options, root });
  onCleanup(() => sup.close());
  await sup.restored();
  return sup;
}

/** Resolves with the first state event for `name` that reaches `to` (and matches `where`). */
export function nextState(
  sup: Supervisor,
  name: string,
  to: PluginStateName,
  where: (e: StateEvent) => boolean = () => true,
): Promise<StateEvent> {
  return new Promise((resolve) => {
    const listener = (e: StateEvent) => {
      if (e.name === name && e.to === to && where(e)) {
        sup.off('state', listener);
        resolve(e);
      }
    };
    sup.on('state', listener);
  });
}

/** Records every state event of a supervisor. */
export function recordStates(sup: Supervisor): StateEvent[] {
  const seen: StateEvent[] = [];
  sup.on('state', (e) => seen.push(e));
  return seen;
}

/** Whether a process exists (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
