// The operations × states matrix: what each operation does to a plugin in each lifecycle state
// (the README's table), and the cell test that checks one entry with a real plugin. Each cell
// puts a plugin in one state, runs one operation on it, and checks that it resolves or rejects
// with its stable code within a bound, and that the plugin ends where the table says.
// Operations that wait on the plugin (an enable of an activating plugin, a disable of a stopping
// one) are let go after they start.
import { describe, expect, it } from 'vitest';
import type { PluginStateName } from '../../machines/types.js';
import type { SupervisorOptions } from '../../src/index.js';
import { P, DEP, STATES, gatedBundle, settlesWithin, stage, type Staged, type StagedState } from './stage.js';

const BOUND_MS = 10_000;

type Operation = (s: Staged, v2: string) => Promise<unknown>;

const OPERATIONS = {
  enable: (s) => s.sup.enable(P),
  disable: (s) => s.sup.disable(P),
  remove: (s) => s.sup.remove(P),
  'remove --force': (s) => s.sup.remove(P, { force: true }),
  set: (s) => s.sup.set(P, [`GATE=${s.director.gate}`]),
  upgrade: (s, v2) => s.sup.upgrade(P, v2),
  'get --acquire, release': async (s) => {
    const client = await s.sup.get(P, 'Op', { acquire: true });
    expect(s.sup.inspect(P).inUse).toBe(1);
    client.release();
    expect(s.sup.inspect(P).inUse).toBe(0);
  },
  'client.call': async (s) => (await s.sup.get(P, 'Op')).call('Op.Echo', { echo: 1 }),
  logs: (s) => s.sup.logs(P),
  close: (s) => s.sup.close(),
} satisfies Record<string, Operation>;
export type OperationName = keyof typeof OPERATIONS;

interface Cell {
  /** 'resolves', or the code it rejects with. */
  settles: 'resolves' | `PLUGD_E_${string}`;
  /** P's state once the operation settled; 'gone' once removed. */
  then: PluginStateName | 'gone';
  /** Let the held hooks go once the operation started (it waits on the plugin). */
  release?: boolean;
  /** How the operation the staging left waiting (enable, or disable for `stopping`) settles. Default: it resolves. */
  staged?: Cell['settles'];
  /** Before the operation: let the next activation succeed (the restart after a backoff runs it). */
  nextActivationSucceeds?: boolean;
  options?: Partial<SupervisorOptions>;
}

const ok = (then: Cell['then'], extra: Partial<Cell> = {}): Cell => ({ settles: 'resolves', then, ...extra });
const refused = (code: Cell['settles'], then: Cell['then']): Cell => ({ settles: code, then });
/** The state a refused operation leaves the plugin in: where it was. */
const stays = (code: Cell['settles']) => Object.fromEntries(STATES.map((s) => [s, refused(code, s)])) as Record<StagedState, Cell>;

/** The documented outcome of each operation in each state (the README's table). */
export const MATRIX: Record<OperationName, Record<StagedState, Cell>> = {
  enable: {
    installed: ok('running'),
    enabled: ok('running', { release: true }),
    activating: ok('running', { release: true }),
    running: ok('running'),
    restarting: ok('running', { nextActivationSucceeds: true, options: { restart: { backoff: { initialMs: 200 }, jitter: 0 } } }),
    stopping: ok('running', { release: true }),
    disabled: ok('running'),
  },
  disable: {
    installed: ok('installed'),
    enabled: ok('disabled', { staged: 'PLUGD_E_STATE' }),
    activating: ok('disabled', { staged: 'PLUGD_E_STATE' }),
    running: ok('disabled'),
    restarting: ok('disabled'),
    stopping: ok('disabled', { release: true }),
    disabled: ok('disabled'),
  },
  remove: { ...stays('PLUGD_E_STATE'), installed: ok('gone'), disabled: ok('gone') },
  'remove --force': {
    installed: ok('gone'),
    enabled: ok('gone', { staged: 'PLUGD_E_STATE' }),
    activating: ok('gone', { staged: 'PLUGD_E_STATE' }),
    running: ok('gone'),
    restarting: ok('gone'),
    stopping: ok('gone', { release: true }),
    disabled: ok('gone'),
  },
  set: { ...stays('PLUGD_E_STATE'), installed: ok('installed'), disabled: ok('disabled') },
  upgrade: { ...stays('PLUGD_E_STATE'), installed: ok('installed'), disabled: ok('installed') },
  'get --acquire, release': Object.fromEntries(STATES.map((s) => [s, ok(s)])) as Record<StagedState, Cell>,
  'client.call': { ...stays('PLUGD_E_NOT_RUNNING'), running: ok('running') },
  logs: Object.fromEntries(STATES.map((s) => [s, ok(s)])) as Record<StagedState, Cell>,
  close: {
    installed: ok('installed'),
    enabled: ok('disabled', { staged: 'PLUGD_E_CLOSED' }),
    activating: ok('disabled', { staged: 'PLUGD_E_CLOSED' }),
    running: ok('disabled'),
    restarting: ok('disabled'),
    stopping: ok('disabled', { release: true, staged: 'PLUGD_E_CLOSED' }),
    disabled: ok('disabled'),
  },
};

function stateOf(s: Staged): PluginStateName | 'gone' {
  try {
    return s.sup.inspect(P).state;
  } catch (e) {
    if ((e as { code?: string }).code === 'PLUGD_E_NOT_FOUND') return 'gone';
    throw e;
  }
}

/** One describe per operation, one test per state. */
export function describeOperations(ops: OperationName[]): void {
  describe.each(ops)('%s', (op) => {
    it.each(STATES)(`settles when the plugin is %s`, async (state) => {
      const cell = MATRIX[op][state];
      const s = await stage(state, cell.options);
      const v2 = await gatedBundle(null, { name: P, version: '2.0.0', requires: state === 'enabled' ? [DEP] : [] });
      if (cell.nextActivationSucceeds) s.director.set(P, 'activate', 'ok');
      const running = OPERATIONS[op](s, v2);
      running.catch(() => undefined);
      if (cell.release) s.director.releaseAll();
      const outcome = await settlesWithin(
        running.then(
          () => 'resolves',
          (e: { code?: string }) => e.code ?? String(e),
        ),
        BOUND_MS,
        `${op} of a ${state} plugin`,
      );
      expect(outcome).toBe(cell.settles);
      expect(stateOf(s)).toBe(cell.then);
      if (op === 'client.call' && cell.settles === 'resolves') await expect(running).resolves.toEqual({ echo: 1 });
      if (op === 'upgrade' && cell.settles === 'resolves') expect(s.sup.inspect(P).version).toBe('2.0.0');
      if (op === 'logs') expect(await running).toBeInstanceOf(Array);
      // What the staging left waiting settles too once the plugin is let go, and with a stable code.
      s.director.releaseAll();
      const staged = await settlesWithin(
        Promise.all(
          s.pending.map((p) =>
            p.then(
              () => 'resolves',
              (e: { code?: string }) => e.code ?? String(e),
            ),
          ),
        ),
        BOUND_MS,
        `the operations that staged ${state}`,
      );
      expect(staged).toEqual(s.pending.map(() => cell.staged ?? 'resolves'));
    });
  });
}
