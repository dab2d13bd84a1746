// The process wrappers (Node, and the shell one plugd prefers) on their own: whatever way it loses its host, the plugin it started ends.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { wrapperCommand } from '../../src/isolation/entry/process-wrapper-sh.mjs';
import { onCleanup, tempDir } from '../helpers.js';
import { killAll, marked } from './proc-scan.js';

const WRAPPER = fileURLToPath(new URL('../../src/isolation/entry/process-wrapper.mjs', import.meta.url));

/** Starts the wrapper on a plugin that runs forever and prints nothing; `hostPid` is who it serves. */
async function startWrapper(hostPid: number) {
  const dir = await tempDir();
  const marker = `plugd-wrapped-${randomBytes(4).toString('hex')}`;
  const config = {
    command: process.execPath,
    args: ['-e', 'setInterval(() => {}, 1000)', marker],
    cwd: dir,
    logSocket: path.join(dir, 'no-pump.sock'),
    id: 'x',
    name: 'x',
    instance: 1,
    graceMs: 500,
    hostPid,
  };
  const wrapper = spawn(process.execPath, [WRAPPER], { env: { PLUGD_WRAPPER: JSON.stringify(config) }, stdio: ['pipe', 'pipe', 'ignore'] });
  onCleanup(() => wrapper.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => wrapper.once('exit', (code) => resolve(code)));
  return { wrapper, exited, marker };
}

describe('the process wrapper', () => {
  it('ends the plugin when its report of the pid meets a closed pipe (EPIPE), lifeline still open', async () => {
    const { wrapper, exited, marker } = await startWrapper(process.pid);
    onCleanup(() => killAll(marked(marker)));
    wrapper.stdout.destroy(); // the host's read end is gone before the wrapper writes "pid N"
    expect(await exited).toBe(128 + 15); // the plugin was started, then ended by SIGTERM
    await expect.poll(() => marked(marker), { timeout: 5_000 }).toEqual([]);
  });

  it('starts nothing when its parent is not the host it was started for (the host died first)', async () => {
    const { wrapper, exited, marker } = await startWrapper(process.pid + 1_000_000);
    onCleanup(() => killAll(marked(marker)));
    const reported = new Promise<string>((resolve) => wrapper.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
    // Whichever comes first: an exit (nothing spawned), or a "pid N" (a plugin was started).
    await expect(Promise.race([exited.then((code) => `exit ${code}`), reported])).resolves.toBe('exit 0');
  });
});

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** Starts the shell wrapper as plugd does, on a plugin that starts a child; `hostPid` is who it serves. */
async function startShellWrapper(hostPid: number) {
  const marker = `plugd-lean-${randomBytes(4).toString('hex')}`;
  const family =
    `require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '${marker}'], { stdio: 'ignore' });` +
    ' setInterval(() => {}, 1000)';
  const [setpriv, ...args] = wrapperCommand({
    setpriv: SETPRIV!,
    graceMs: 500,
    hostPid,
    command: process.execPath,
    args: ['-e', family, marker],
  });
  const wrapper = spawn(setpriv!, args, {
    stdio: ['ignore', 'pipe', 'ignore', 'pipe', 'pipe'], // fds 3 and 4: the plugin's stdout, stderr
  });
  onCleanup(() => wrapper.kill('SIGKILL'));
  onCleanup(() => killAll(marked(marker)));
  const exited = new Promise<number | null>((resolve) => wrapper.once('exit', (code) => resolve(code)));
  return { wrapper, exited, marker };
}

describe.runIf(SETPRIV)('the shell wrapper', () => {
  it("on SIGTERM (the parent-death signal) ends the plugin and the plugin's own child", async () => {
    const { wrapper, exited, marker } = await startShellWrapper(process.pid);
    await new Promise<void>((resolve) => wrapper.stdout!.once('data', () => resolve()));
    await expect.poll(() => marked(marker).length, { timeout: 10_000 }).toBe(2);
    wrapper.kill('SIGTERM');
    await exited;
    await expect.poll(() => marked(marker), { timeout: 5_000 }).toEqual([]);
  });

  it('starts nothing when its parent is not the host it was started for (the host died first)', async () => {
    const { wrapper, exited } = await startShellWrapper(process.pid + 1_000_000);
    const reported = new Promise<string>((resolve) => wrapper.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
    await expect(Promise.race([exited.then((code) => `exit ${code}`), reported])).resolves.toBe('exit 0');
  });
});
