import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, nextState, supervisor } from '../helpers.js';

describe('plugin logs', () => {
  it('captures ctx.log, console.* and raw stdout/stderr as pino lines tagged { plugin, instance }', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    await (await sup.get('greeter', 'Greeter')).call('Greeter.Print', { lines: ['first', 'second'] });
    await expect.poll(async () => (await sup.logs('greeter')).length).toBeGreaterThanOrEqual(5);
    const lines = await sup.logs('greeter');
    expect(lines.map((l) => l.msg)).toEqual(['greeter activating', 'first', 'second', 'raw stdout line', 'raw stderr line']);
    expect(lines.every((l) => l.plugin === 'greeter' && l.instance === 1)).toBe(true);
    expect(lines.find((l) => l.msg === 'raw stderr line')).toMatchObject({ stream: 'stderr', level: 40 });
    expect(sup.inspect('greeter').logs).toEqual({ lines: 5, dropped: 0 });
  });

  it('returns only the last `tail` lines, oldest first', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('flood'));
    await sup.enable('flood');
    await (await sup.get('flood', 'Flood')).call('Flood.Burst', { lines: 50 });
    await expect.poll(async () => (await sup.logs('flood', { tail: 1000 })).length).toBe(50);
    const tail = await sup.logs('flood', { tail: 3 });
    expect(tail.map((l) => l.i)).toEqual([47, 48, 49]);
    await expect(sup.logs('flood', { tail: 0 })).rejects.toMatchObject({ code: 'PLUGD_E_OPTION' });
  });

  it('drops and counts a flood beyond the rate limit instead of buffering it', async () => {
    // 100,000 lines in one synchronous loop block the plugin's event loop for seconds on a loaded
    // machine, which the watchdog would rightly call a hang: only the limiter is under test here.
    const sup = await supervisor({ watchdogMs: 60_000, logs: { ratePerSec: 100, burst: 200 } });
    await sup.install(await bundle('flood'));
    await sup.enable('flood');
    const flood = await sup.get('flood', 'Flood');
    const before = performance.now();
    await flood.call('Flood.Burst', { lines: 100_000 });
    const elapsedSec = (performance.now() - before) / 1000;
    const { logs } = sup.inspect('flood');
    expect(logs.lines + logs.dropped).toBe(100_000);
    // The burst, then ratePerSec for as long as the flood lasted (seconds on a loaded machine).
    expect(logs.lines).toBeGreaterThanOrEqual(200);
    expect(logs.lines).toBeLessThanOrEqual(200 + Math.ceil(100 * elapsedSec) + 1);
    expect(logs.dropped).toBeGreaterThan(100_000 - 200 - Math.ceil(100 * elapsedSec) - 2);
    await expect
      .poll(async () => (await sup.logs('flood', { tail: 5 })).some((l) => typeof l.dropped === 'number'), { timeout: 10_000 })
      .toBe(true);
  });

  it('reports drops made just after a notice once the interval ends, though the plugin falls silent', async () => {
    const sup = await supervisor({ logs: { ratePerSec: 100, burst: 200 } });
    await sup.install(await bundle('flood'));
    await sup.enable('flood');
    const flood = await sup.get('flood', 'Flood');
    const notices = async () => (await sup.logs('flood', { tail: 1_000 })).filter((l) => typeof l.dropped === 'number');
    await flood.call('Flood.Burst', { lines: 1_000 });
    await expect.poll(async () => (await notices()).length, { timeout: 10_000 }).toBe(1);
    const droppedFirst = sup.inspect('flood').logs.dropped;
    // A second flood right after the first notice: its drops wait for the interval to end.
    await flood.call('Flood.Burst', { lines: 1_000 });
    const dropped = sup.inspect('flood').logs.dropped;
    expect(dropped).toBeGreaterThan(droppedFirst);
    await expect.poll(async () => (await notices()).reduce((sum, l) => sum + (l.dropped as number), 0), { timeout: 10_000 }).toBe(dropped);
    expect((await notices()).length).toBe(2);
  });

  it('writes each plugin log to <root>/logs/<id>.log, rotated past maxFileBytes', async () => {
    const sup = await supervisor({ logs: { maxFileBytes: 20_000, ratePerSec: 100_000, burst: 100_000 } });
    const { id } = await sup.install(await bundle('flood'));
    await sup.enable('flood');
    await (await sup.get('flood', 'Flood')).call('Flood.Burst', { lines: 2_000 });
    const file = path.join(sup.root, 'logs', `${id}.log`);
    // The pump answers a tail after the batches before it: once it holds the last line, the
    // file is no longer being rotated under the test.
    await expect.poll(async () => (await sup.logs('flood', { tail: 1 }))[0]?.i, { timeout: 10_000 }).toBe(1_999);
    expect((await stat(file)).size).toBeLessThanOrEqual(20_000 + 64 * 1024);
    const firstLine = (await readFile(`${file}.1`, 'utf8')).split('\n')[0]!;
    expect(JSON.parse(firstLine)).toMatchObject({ plugin: 'flood', instance: 1, msg: 'flood line' });
  });

  it('keeps logs readable from the file after the host restarts', async () => {
    const first = await supervisor();
    await first.install(await bundle('greeter'));
    await first.enable('greeter');
    await expect.poll(async () => (await first.logs('greeter')).length).toBe(1);
    await first.close();
    const second = await supervisor({ root: first.root, restore: false });
    expect((await second.logs('greeter')).map((l) => l.msg)).toEqual(['greeter activating', 'greeter deactivating']);
  });

  it('tags lines of a restarted plugin with the new instance number', async () => {
    const sup = await supervisor({ watchdogMs: 150 });
    await sup.install(await bundle('busy-loop'));
    await sup.enable('busy-loop');
    const restarted = nextState(sup, 'busy-loop', 'running');
    await (await sup.get('busy-loop', 'Spin')).call('Spin.Forever').catch(() => undefined);
    await restarted;
    expect(sup.inspect('busy-loop').instance?.number).toBe(2);
  });
});
