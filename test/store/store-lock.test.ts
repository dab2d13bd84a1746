import { spawn } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSupervisor } from '../../src/index.js';
import { LOCK_FILE } from '../../src/store/store-lock.js';
import { onCleanup, silent, supervisor, tempDir } from '../helpers.js';

const HOLDER = fileURLToPath(new URL('../fixtures/hold-store.ts', import.meta.url));

async function lockOwner(root: string): Promise<{ pid: number }> {
  return JSON.parse(await readFile(path.join(root, LOCK_FILE), 'utf8'));
}

describe('one supervisor per store', () => {
  it('refuses a root that another live host holds, sweeps nothing of it, and takes it once that host is killed', async () => {
    const root = path.join(await tempDir(), 'store');
    const holder = spawn(process.execPath, ['--import', 'tsx', HOLDER, root], { stdio: ['ignore', 'pipe', 'inherit'] });
    onCleanup(() => holder.kill('SIGKILL'));
    const exited = new Promise((resolve) => holder.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      holder.on('exit', (code) => reject(new Error(`the holder ended: ${code}`)));
    });
    // What an install in progress in the holder looks like on disk: a second host must not sweep it.
    const incoming = path.join(root, 'plugins', '.incoming-in-progress');
    await mkdir(incoming, { recursive: true });

    await expect(createSupervisor({ root, logger: silent })).rejects.toMatchObject({
      code: 'PLUGD_E_STORE_LOCKED',
      message: expect.stringContaining(`process ${holder.pid}`),
      details: { owner: { pid: holder.pid } },
    });
    await expect(access(incoming)).resolves.toBeUndefined();

    holder.kill('SIGKILL');
    await exited;
    const sup = await supervisor({ root });
    expect((await lockOwner(sup.root)).pid).toBe(process.pid);
    await expect(access(incoming)).rejects.toThrow(); // now it is debris, and swept
  });

  it('refuses a second supervisor in the same process until the first is closed, which releases the lock', async () => {
    const first = await supervisor();
    await expect(createSupervisor({ root: first.root, logger: silent })).rejects.toMatchObject({ code: 'PLUGD_E_STORE_LOCKED' });
    await first.close();
    await expect(access(path.join(first.root, LOCK_FILE))).rejects.toThrow();
    const second = await supervisor({ root: first.root });
    expect(second.list()).toEqual([]);
  });

  it('takes over a lock whose pid now belongs to another process (a reused pid)', async () => {
    const root = path.join(await tempDir(), 'store');
    await mkdir(root, { recursive: true });
    await writeFile(
      path.join(root, LOCK_FILE),
      JSON.stringify({ pid: process.pid, startTime: '1', host: hostname(), since: '2020-01-01T00:00:00.000Z' }),
    );
    const sup = await supervisor({ root });
    expect(await lockOwner(sup.root)).toMatchObject({ pid: process.pid, startTime: expect.not.stringMatching(/^1$/) });
  });

  it('never judges a lock from another host stale', async () => {
    const root = path.join(await tempDir(), 'store');
    await mkdir(root, { recursive: true });
    await writeFile(
      path.join(root, LOCK_FILE),
      JSON.stringify({ pid: 1, startTime: null, host: `not-${hostname()}`, since: '2020-01-01T00:00:00.000Z' }),
    );
    await expect(createSupervisor({ root, logger: silent })).rejects.toMatchObject({
      code: 'PLUGD_E_STORE_LOCKED',
      message: expect.stringContaining(`on not-${hostname()}`),
    });
  });

  it('takes over a torn lock file', async () => {
    const root = path.join(await tempDir(), 'store');
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, LOCK_FILE), '{"pid": 12');
    const sup = await supervisor({ root });
    expect((await lockOwner(sup.root)).pid).toBe(process.pid);
  });
});
