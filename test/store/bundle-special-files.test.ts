// A bundle folder holds files, folders and relative symlinks inside it, nothing else: a fifo, a
// socket or a device is neither covered by the ID nor copied faithfully, so install refuses it
// before anything reaches the store.
import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundle, supervisor } from '../helpers.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function refused(place: (dir: string) => Promise<void> | void, entry: string): Promise<void> {
  const dir = await bundle('greeter');
  await place(dir);
  const sup = await supervisor();
  const before = await readdir(path.join(sup.root, 'plugins'));
  await expect(sup.install(dir)).rejects.toMatchObject({ code: 'PLUGD_E_BUNDLE', message: expect.stringContaining(entry) });
  expect(sup.list()).toEqual([]);
  expect(await readdir(path.join(sup.root, 'plugins'))).toEqual(before);
}

describe('special files in a bundle folder', () => {
  it('refuses a fifo (the copy used to block or fail with PLUGD_E_STORE)', async () => {
    await refused((dir) => {
      execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    }, 'pipe');
  });

  it('refuses a fifo in a sub-folder', async () => {
    await refused((dir) => {
      execFileSync('mkdir', [path.join(dir, 'lib')]);
      execFileSync('mkfifo', [path.join(dir, 'lib', 'pipe')]);
    }, 'lib/pipe');
  });

  it('refuses a unix socket', async () => {
    await refused(async (dir) => {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(path.join(dir, 'plugin.sock'), resolve));
    }, 'plugin.sock');
  });

  it.skipIf(process.getuid?.() !== 0)('refuses a character device (it used to be installed as a file holding its content)', async () => {
    await refused((dir) => {
      execFileSync('mknod', [path.join(dir, 'null'), 'c', '1', '3']);
    }, 'null');
  });
});
