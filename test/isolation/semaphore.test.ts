import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../src/isolation/semaphore.js';
import { bundle, supervisor } from '../helpers.js';

describe('Semaphore', () => {
  it('lets `limit` starts through at once and the rest in arrival order as slots free', async () => {
    const gate = new Semaphore(2);
    const order: number[] = [];
    const releases = await Promise.all([gate.acquire(), gate.acquire()]);
    const queued = [3, 4, 5].map((n) =>
      gate.acquire().then((release) => {
        order.push(n);
        return release;
      }),
    );
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(gate.waiting).toBe(3);
    releases[0]!();
    releases[0]!(); // a second release of the same slot frees nothing more
    await queued[0];
    expect(order).toEqual([3]);
    releases[1]!();
    (await queued[0]!)();
    await Promise.all(queued);
    expect(order).toEqual([3, 4, 5]);
  });
});

describe('Semaphore priorities', () => {
  it('serves urgent requests before background ones', async () => {
    const gate = new Semaphore(1);
    const first = await gate.acquire();
    const order: string[] = [];
    const background = gate.acquire('background').then((release) => {
      order.push('background');
      release();
    });
    const urgent = gate.acquire('urgent').then((release) => {
      order.push('urgent');
      release();
    });
    first();
    await Promise.all([background, urgent]);
    expect(order).toEqual(['urgent', 'background']);
  });
});

describe('Semaphore aborts', () => {
  it('takes an aborted wait out of the queue, and hands the slot to the next', async () => {
    const gate = new Semaphore(1);
    const first = await gate.acquire();
    const stop = new AbortController();
    const aborted = gate.acquire('urgent', stop.signal);
    const next = gate.acquire();
    expect(gate.waiting).toBe(2);
    stop.abort(new Error('stopped'));
    await expect(aborted).rejects.toThrow('stopped');
    expect(gate.waiting).toBe(1);
    first();
    (await next)();
    await expect(gate.acquire('urgent', AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });
});

describe('rationed thread starts', () => {
  it('disables plugins that still wait for a start slot, and enables them again', async () => {
    const sup = await supervisor({ maxConcurrentStarts: 1 });
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const name of names) await sup.install(await bundle('greeter', { name }));
    const enabled = names.map((name) =>
      sup.enable(name).then(
        () => 'running',
        (e: { code: string }) => e.code,
      ),
    );
    await Promise.all(names.map((name) => sup.disable(name)));
    await Promise.all(enabled);
    expect(sup.list().map((p) => p.state)).toEqual(names.map(() => 'disabled'));
    for (const name of names) expect(sup.inspect(name).lastError).toBeFalsy();
    // And they come up normally when enabled again.
    await Promise.all(names.map((name) => sup.enable(name)));
    expect(sup.list().map((p) => p.state)).toEqual(names.map(() => 'running'));
  });

  it('brings every plugin up with one thread booting at a time', async () => {
    const sup = await supervisor({ maxConcurrentStarts: 1 });
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const name of names) await sup.install(await bundle('greeter', { name }));
    await Promise.all(names.map((name) => sup.enable(name)));
    expect(sup.list().map((p) => p.state)).toEqual(names.map(() => 'running'));
  });
});
