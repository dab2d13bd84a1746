// GET /v1/plugins/:name/logs?follow=1 over the control socket, with a real worker plugin logging
// numbered lines: the tail and the followed lines meet without a gap or a repeat, across rotations.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Supervisor } from '../../src/index.js';
import { bundle, onCleanup, supervisor } from '../helpers.js';
import { follow } from './http.js';

/** A supervisor serving the control API, running seq-logger with no rate limit in the way. */
async function logging(logs: { maxFileBytes?: number } = {}) {
  const sup = await supervisor({ control: true, logs: { ratePerSec: 1_000_000, burst: 1_000_000, ...logs } });
  const { id } = await sup.install(await bundle('seq-logger'));
  await sup.enable('seq-logger');
  const seq = await sup.get('seq-logger', 'Seq');
  return {
    sup,
    id,
    socket: path.join(sup.root, 'plugd.sock'),
    call: async (method: string, args: unknown = {}) => (await seq.call(method, args)) as { last: number },
  };
}

/** The numbers of the feed's seq lines, and what is wrong with them against first..last. */
function audit(lines: { seq?: unknown }[], first: number, last: number) {
  const seqs = lines.filter((l) => typeof l.seq === 'number').map((l) => l.seq as number);
  const seen = new Set(seqs);
  const missing: number[] = [];
  for (let n = first; n <= last; n++) if (!seen.has(n)) missing.push(n);
  return {
    missing: missing.length > 20 ? [...missing.slice(0, 20), `…${missing.length} in all`] : missing,
    repeated: seqs.length - seen.size,
    outOfOrder: seqs.filter((n, i) => i > 0 && n <= seqs[i - 1]!).length,
    beyond: seqs.filter((n) => n < first || n > last).length,
  };
}

const clean = { missing: [], repeated: 0, outOfOrder: 0, beyond: 0 };

async function latestSeq(sup: Supervisor): Promise<number> {
  const [line] = await sup.logs('seq-logger', { tail: 1 });
  return typeof line?.seq === 'number' ? line.seq : -1;
}

describe('logs?tail=N&follow=1', () => {
  it('sends every line once and in order, from the tail on, while the plugin logs without a pause', async () => {
    const { sup, socket, call } = await logging();
    await call('Seq.Start', { perTick: 5 });
    await expect.poll(() => latestSeq(sup)).toBeGreaterThanOrEqual(100);
    const feed = await follow(socket, '/v1/plugins/seq-logger/logs?tail=50&follow=1');
    onCleanup(() => feed.close());
    const first = (await feed.next((l) => typeof l.seq === 'number')).seq as number;
    await feed.next((l) => l.seq >= first + 2_000);
    const { last } = await call('Seq.Stop');
    await feed.next((l) => l.seq === last);
    expect(feed.lines.slice(0, 50).every((l) => typeof l.seq === 'number')).toBe(true); // the tail: 50 lines
    expect(feed.lines.filter((l) => 'dropped' in l)).toEqual([]);
    expect(audit(feed.lines, first, last)).toEqual(clean);
  });

  it('follows across rotations of the log file without losing a line', async () => {
    const maxFileBytes = 128 * 1024;
    const { sup, id, socket, call } = await logging({ maxFileBytes });
    await call('Seq.Start', { perTick: 5 });
    await expect.poll(() => latestSeq(sup)).toBeGreaterThanOrEqual(100);
    const feed = await follow(socket, '/v1/plugins/seq-logger/logs?tail=10&follow=1');
    onCleanup(() => feed.close());
    const first = (await feed.next((l) => typeof l.seq === 'number')).seq as number;
    // Some 4 files' worth of lines (each about 90 bytes) while following.
    await feed.next((l) => l.seq >= first + Math.ceil((4 * maxFileBytes) / 90));
    const { last } = await call('Seq.Stop');
    await feed.next((l) => l.seq === last);
    const logs = path.join(sup.root, 'logs');
    expect(await readdir(logs)).toContain(`${id}.log.1`);
    expect((await stat(path.join(logs, `${id}.log`))).size).toBeLessThanOrEqual(maxFileBytes * 1.5);
    expect(feed.lines.filter((l) => 'dropped' in l)).toEqual([]);
    expect(audit(feed.lines, first, last)).toEqual(clean);
  });

  it('steps through a rotation after every few lines, one batch at a time', async () => {
    const { sup, id, socket, call } = await logging({ maxFileBytes: 1024 });
    const feed = await follow(socket, '/v1/plugins/seq-logger/logs?tail=1&follow=1');
    onCleanup(() => feed.close());
    let last = -1;
    for (let round = 0; round < 30; round++) {
      last = (await call('Seq.Write', { lines: 7 })).last;
      await feed.next((l) => l.seq === last);
    }
    expect(await readdir(path.join(sup.root, 'logs'))).toContain(`${id}.log.1`);
    expect(audit(feed.lines, 0, last)).toEqual(clean);
  });

  it('keeps filtering the tail by since, and follows on after it', async () => {
    const { sup, socket, call } = await logging();
    await call('Seq.Write', { lines: 20 });
    await expect.poll(() => latestSeq(sup)).toBe(19);
    const feed = await follow(socket, `/v1/plugins/seq-logger/logs?tail=50&follow=1&since=${Date.now() + 60_000}`);
    onCleanup(() => feed.close());
    const { last } = await call('Seq.Write', { lines: 5 });
    await feed.next((l) => l.seq === last);
    expect(audit(feed.lines, 20, last)).toEqual(clean);
    expect(feed.lines.every((l) => typeof l.seq === 'number')).toBe(true);
  });
});
