// Puts a plugin in one lifecycle state, with real workers, and keeps it there: the op-gated
// fixture's activate() and deactivate() wait for the Director, a failed activation waits out a
// long backoff in `restarting`, a dependency held activating keeps its dependent `enabled`.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { PluginStateName } from '../../machines/types.js';
import type { StateEvent, Supervisor, SupervisorOptions } from '../../src/index.js';
import { bundle, onCleanup, supervisor, tempDir } from '../helpers.js';
import { Director } from './director.js';

/** The states an operation can meet a plugin in (removed plugins are gone: PLUGD_E_NOT_FOUND). */
export const STATES = ['installed', 'enabled', 'activating', 'running', 'restarting', 'stopping', 'disabled'] as const;
export type StagedState = (typeof STATES)[number];

/** The plugin every operation is tried on, and the dependency that keeps it `enabled`. */
export const P = 'p';
export const DEP = 'dep';

export interface Staged {
  sup: Supervisor;
  director: Director;
  /** Operations the staging started that wait on the world (an enable, a disable): they must settle too. */
  pending: Promise<unknown>[];
  /** The public states P went through, in order. */
  path: PluginStateName[];
  /** Resolves once `name` is in `state` (at once if it already is). */
  reached(name: string, state: PluginStateName): Promise<void>;
}

/** A bundle of the op-gated fixture, talking to `director` (or, without one, to whom its GATE setting names). */
export function gatedBundle(director: Director | null, overrides: Record<string, unknown> = {}): Promise<string> {
  return bundle('op-gated', director ? { env: [{ name: 'GATE', value: director.gate, settable: true }], ...overrides } : overrides);
}

/** Supervisor options of every staged test: no timeout cuts a held hook short, backoffs are long. */
export const STAGE_OPTIONS: Partial<SupervisorOptions> = {
  activationTimeoutMs: 60_000,
  stopTimeoutMs: 60_000,
  restart: { backoff: { initialMs: 60_000 }, jitter: 0 },
};

/**
 * Stores with P (and, for `enabled`, DEP that P requires) installed, built once per test file
 * and copied for each test: an install costs a task pool's start, a copy does not.
 */
const templates = new Map<boolean, Promise<string>>();
const templateDirs: string[] = [];
afterAll(async () => {
  for (const dir of templateDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function template(withDependency: boolean): Promise<string> {
  let built = templates.get(withDependency);
  if (!built) {
    built = (async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'plugd-op-template-'));
      templateDirs.push(dir);
      const root = path.join(dir, 'store');
      const sup = await supervisor({ root, restore: false });
      if (withDependency) await sup.install(await bundle('op-gated', { name: DEP }));
      await sup.install(await bundle('op-gated', { name: P, requires: withDependency ? [DEP] : [] }));
      await sup.close();
      return root;
    })();
    templates.set(withDependency, built);
  }
  return built;
}

export async function stage(state: StagedState, options: Partial<SupervisorOptions> = {}): Promise<Staged> {
  const director = new Director();
  onCleanup(() => director.close());
  const root = path.join(await tempDir(), 'store');
  await cp(await template(state === 'enabled'), root, { recursive: true, filter: (from) => path.basename(from) !== 'plugd.lock' });
  const sup = await supervisor({ ...STAGE_OPTIONS, ...options, root, restore: false });
  // Whatever a test leaves held is let go before the supervisor closes.
  onCleanup(() => director.releaseAll());
  const seen: PluginStateName[] = [];
  const current = new Map<string, PluginStateName>();
  const listeners = new Set<() => void>();
  // The level first: the plugins were spawned, `installed`, when the copied store opened.
  for (const info of sup.list()) current.set(info.name, info.state);
  seen.push(sup.inspect(P).state);
  sup.on('state', (e: StateEvent) => {
    current.set(e.name, e.to);
    if (e.name === P) seen.push(e.to);
    for (const l of [...listeners]) l();
  });
  const reached = (name: string, wanted: PluginStateName) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (current.get(name) !== wanted) return;
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      check();
    });
  const pending: Promise<unknown>[] = [];
  const track = (p: Promise<unknown>) => {
    p.catch(() => undefined);
    pending.push(p);
  };
  const staged: Staged = { sup, director, pending, path: seen, reached };

  // The plugins talk to this test's director.
  if (state === 'enabled') {
    await sup.set(DEP, [`GATE=${director.gate}`]);
    director.set(DEP, 'activate', 'hold');
  }
  await sup.set(P, [`GATE=${director.gate}`]);
  switch (state) {
    case 'installed':
      break;
    case 'enabled':
      track(sup.enable(P));
      await director.heldIn(DEP, 'activate');
      await reached(P, 'enabled');
      break;
    case 'activating':
      director.set(P, 'activate', 'hold');
      track(sup.enable(P));
      await director.heldIn(P, 'activate');
      await reached(P, 'activating');
      break;
    case 'running':
      await sup.enable(P);
      break;
    case 'restarting':
      director.set(P, 'activate', 'fail');
      await sup.enable(P).then(
        () => {
          throw new Error('the activation was told to fail');
        },
        (e: { code?: string }) => {
          if (e.code !== 'PLUGD_E_ACTIVATION') throw e;
        },
      );
      await reached(P, 'restarting');
      break;
    case 'stopping':
      await sup.enable(P);
      director.set(P, 'deactivate', 'hold');
      track(sup.disable(P));
      await director.heldIn(P, 'deactivate');
      await reached(P, 'stopping');
      break;
    case 'disabled':
      await sup.enable(P);
      await sup.disable(P);
      break;
  }
  return staged;
}

/** Resolves or rejects as `promise` does, or rejects if it has not settled within `ms`. */
export function settlesWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
