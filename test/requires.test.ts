import { describe, expect, it } from 'vitest';
import { createSupervisor } from '../src/index.js';
import { bundle, nextState, onCleanup, recordStates, silent, supervisor } from './helpers.js';
import { Director } from './runtime/director.js';
import { gatedBundle, settlesWithin } from './runtime/stage.js';

/** Installs greeter copies named after the keys, each requiring its list. */
async function installGraph(sup: Awaited<ReturnType<typeof supervisor>>, graph: Record<string, string[]>) {
  for (const [name, requires] of Object.entries(graph)) {
    await sup.install(await bundle('greeter', { name, requires, restart: 'always' }));
  }
}

describe('requires', () => {
  it('enables what a plugin requires and activates dependencies first', async () => {
    const sup = await supervisor();
    const seen = recordStates(sup);
    await installGraph(sup, { db: [], cache: ['db'], app: ['db', 'cache'] });
    await sup.enable('app');
    expect(sup.list().map((p) => [p.name, p.state, p.enabled])).toEqual([
      ['app', 'running', true],
      ['cache', 'running', true],
      ['db', 'running', true],
    ]);
    expect(seen.filter((e) => e.to === 'running').map((e) => e.name)).toEqual(['db', 'cache', 'app']);
  });

  it('refuses an install that closes a cycle, naming it, and leaves the store as it was', async () => {
    const sup = await supervisor();
    await installGraph(sup, { a: ['c'], b: ['a'] });
    await expect(sup.install(await bundle('greeter', { name: 'c', requires: ['b'] }))).rejects.toMatchObject({
      code: 'PLUGD_E_CYCLE',
      message: expect.stringContaining('a -> c -> b -> a'),
    });
    expect(sup.list().map((p) => p.name)).toEqual(['a', 'b']);
  });

  it('refuses to enable a plugin whose dependency is not installed', async () => {
    const sup = await supervisor();
    await installGraph(sup, { app: ['db'] });
    await expect(sup.enable('app')).rejects.toMatchObject({ code: 'PLUGD_E_DEPENDENCY', message: expect.stringContaining('"db"') });
  });

  it('restarts dependents after their dependency restarts (rest_for_one)', async () => {
    const sup = await supervisor({ watchdogMs: 150 });
    await sup.install(await bundle('busy-loop', { name: 'base' }));
    await installGraph(sup, { top: ['base'] });
    await sup.enable('top');
    const seen = recordStates(sup);
    const topBack = nextState(sup, 'top', 'running');
    await (await sup.get('base', 'Spin')).call('Spin.Forever').catch(() => undefined);
    await topBack;
    const order = seen.filter((e) => ['stopping', 'restarting', 'running'].includes(e.to)).map((e) => `${e.name}:${e.to}`);
    expect(order).toEqual(['base:restarting', 'top:stopping', 'base:running', 'top:running']);
    expect(sup.inspect('top').state).toBe('running');
  });

  it('stops dependents before a disabled dependency, and close stops in reverse order', async () => {
    const sup = await supervisor();
    await installGraph(sup, { db: [], cache: ['db'], app: ['cache'] });
    await sup.enable('app');
    const seen = recordStates(sup);
    await sup.disable('db');
    expect(seen.filter((e) => e.to === 'stopping').map((e) => e.name)).toEqual(['app', 'cache', 'db']);
    expect(sup.inspect('app')).toMatchObject({ state: 'enabled', enabled: true });
    await sup.enable('db');
    await nextState(sup, 'app', 'running');
    seen.length = 0;
    await sup.close();
    expect(seen.filter((e) => e.to === 'disabled').map((e) => e.name)).toEqual(['app', 'cache', 'db']);
  });

  it('refuses to remove a plugin others require unless forced', async () => {
    const sup = await supervisor();
    await installGraph(sup, { db: [], app: ['db'] });
    await expect(sup.remove('db')).rejects.toMatchObject({ code: 'PLUGD_E_DEPENDENCY' });
    await expect(sup.remove('db', { force: true })).resolves.toBeUndefined();
  });

  it('opens without waiting for a restored plugin whose dependency keeps failing, which waits in enabled', async () => {
    const director = new Director();
    onCleanup(() => director.close());
    const first = await supervisor();
    await first.install(await gatedBundle(director, { name: 'base', restart: { policy: 'always' } }));
    await first.install(await gatedBundle(director, { name: 'top', requires: ['base'] }));
    await first.enable('top');
    await first.close();

    director.set('base', 'activate', 'fail');
    const opening = createSupervisor({ root: first.root, logger: silent, restart: { backoff: { initialMs: 100 }, jitter: 0 } });
    const sup = await settlesWithin(opening, 10_000, 'createSupervisor()');
    onCleanup(() => sup.close());
    const report = await settlesWithin(sup.restored(), 10_000, 'restored()');
    expect(report.running).toEqual([]);
    expect(report.failed.map((f) => [f.name, (f.error as { code?: string }).code]).sort()).toEqual([
      ['base', 'PLUGD_E_ACTIVATION'],
      ['top', 'PLUGD_E_DEPENDENCY'],
    ]);
    expect(sup.inspect('top')).toMatchObject({ state: 'enabled', enabled: true });
    expect(['restarting', 'activating']).toContain(sup.inspect('base').state);

    // The dependent starts on its own once its dependency finally runs.
    const topRuns = nextState(sup, 'top', 'running');
    director.set('base', 'activate', 'ok');
    await topRuns;
    expect(sup.inspect('base').state).toBe('running');
  });
});
