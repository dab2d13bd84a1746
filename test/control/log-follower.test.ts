// The follower registry: one watcher of the logs folder for every follower, closed with the last
// one; followers that start at a cut and read on across the pump's rotations (<id>.log -> .log.1).
import { appendFile, open, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogFollowers } from '../../src/control/log-follower.js';
import type { LogCut } from '../../src/logs/pump-protocol.js';
import { bundle, onCleanup, supervisor, tempDir } from '../helpers.js';

/** Follows `id` from `cut`, keeping the lines it gets; `next(pred)` waits for a matching one. */
function collect(followers: LogFollowers, id: string, cut: LogCut) {
  const lines: string[] = [];
  const waiters: { pred: (line: string) => boolean; resolve: () => void }[] = [];
  const stop = followers.follow(id, cut, (line) => {
    const text = line.toString('utf8').trimEnd();
    lines.push(text);
    for (const w of [...waiters])
      if (w.pred(text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  });
  onCleanup(stop);
  const next = (pred: (line: string) => boolean) =>
    lines.some(pred) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pred, resolve }));
  return { lines, stop, next };
}

async function cutAtEnd(file: string): Promise<LogCut> {
  const info = await stat(file, { bigint: true });
  return { ino: info.ino, birth: info.birthtimeNs, offset: Number(info.size) };
}

describe('LogFollowers', () => {
  it("shares one folder watcher between a plugin's followers and closes it, and their files, with the last", async () => {
    const sup = await supervisor({ logs: { ratePerSec: 1_000_000, burst: 1_000_000 } });
    const { id } = await sup.install(await bundle('seq-logger'));
    await sup.enable('seq-logger');
    const seq = await sup.get('seq-logger', 'Seq');
    await seq.call('Seq.Write', { lines: 3 });
    await expect.poll(async () => (await sup.logs('seq-logger')).some((l) => l.seq === 2)).toBe(true);
    const logsDir = path.join(sup.root, 'logs');
    const followers = new LogFollowers(logsDir);
    onCleanup(() => followers.close());
    const cut = await cutAtEnd(path.join(logsDir, `${id}.log`));
    const one = collect(followers, id, cut);
    const two = collect(followers, id, cut);
    await seq.call('Seq.Write', { lines: 2 });
    await Promise.all([one.next((l) => l.includes('"seq":4')), two.next((l) => l.includes('"seq":4'))]);
    expect(one.lines).toEqual(two.lines);
    expect(one.lines.map((l) => JSON.parse(l).seq)).toEqual([3, 4]);
    expect(followers.state).toEqual({ followers: 2, watchers: 1, rechecking: true, openFiles: 2 });
    await one.stop();
    expect(followers.state).toEqual({ followers: 1, watchers: 1, rechecking: true, openFiles: 1 });
    await two.stop();
    expect(followers.state).toEqual({ followers: 0, watchers: 0, rechecking: false, openFiles: 0 });
    // A follower after that gets a watcher again.
    const three = collect(followers, id, await cutAtEnd(path.join(logsDir, `${id}.log`)));
    await seq.call('Seq.Write', { lines: 1 });
    await three.next((l) => l.includes('"seq":5'));
    expect(followers.state.watchers).toBe(1);
  });

  it('reads on from a cut whose file was rotated before the follower opened it, then through later rotations', async () => {
    const dir = await tempDir();
    const log = path.join(dir, 'p.log');
    await writeFile(log, 'a\nb\n');
    const cut = await cutAtEnd(log);
    await appendFile(log, 'c\n');
    await rename(log, `${log}.1`);
    await writeFile(log, 'd\n');
    const followers = new LogFollowers(dir);
    onCleanup(() => followers.close());
    const feed = collect(followers, 'p', cut);
    await feed.next((l) => l === 'd');
    await appendFile(log, 'e\n');
    await feed.next((l) => l === 'e');
    await appendFile(log, 'f\n');
    await rename(log, `${log}.1`);
    await writeFile(log, 'g\n');
    await feed.next((l) => l === 'g');
    expect(feed.lines).toEqual(['c', 'd', 'e', 'f', 'g']);
  });

  it('goes on from the oldest file left when the cut was rotated away twice, never repeating a line', async () => {
    const dir = await tempDir();
    const log = path.join(dir, 'p.log');
    await writeFile(log, 'a\n');
    const cut = await cutAtEnd(log);
    // Held open, so that no later file gets its inode once it is deleted: this is about the lines.
    const held = await open(log, 'r');
    onCleanup(() => held.close());
    await appendFile(log, 'lost\n');
    await rename(log, `${log}.1`);
    await writeFile(log, 'b\n');
    await rename(log, `${log}.1`);
    await writeFile(log, 'c\n');
    const followers = new LogFollowers(dir);
    onCleanup(() => followers.close());
    const feed = collect(followers, 'p', cut);
    await feed.next((l) => l === 'c');
    expect(feed.lines).toEqual(['b', 'c']);
  });

  it('waits for a file that did not exist at the cut, and reads all of it', async () => {
    const dir = await tempDir();
    const followers = new LogFollowers(dir);
    onCleanup(() => followers.close());
    const feed = collect(followers, 'p', { ino: 0n, birth: 0n, offset: 0 });
    await writeFile(path.join(dir, 'p.log'), 'first\nsecond\n');
    await feed.next((l) => l === 'second');
    expect(feed.lines).toEqual(['first', 'second']);
  });
});
