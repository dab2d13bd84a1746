import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alive, bundle, onCleanup, tempDir } from '../helpers.js';

const HOST = fileURLToPath(new URL('../fixtures/iso-host.ts', import.meta.url));

/** On-CPU time of a process's main thread, in ms. */
function cpuMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[0]) / 1e6;
}

async function hostWithPlugin(mode: 'idle' | 'spin') {
  const root = path.join(await tempDir(), 'store');
  const host = spawn(process.execPath, ['--import', 'tsx', HOST, root, await bundle('iso-basic'), mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onCleanup(() => host.kill('SIGKILL'));
  const { pid } = await new Promise<{ pid: number }>((resolve, reject) => {
    host.stdout.once('data', (line: Buffer) => resolve(JSON.parse(line.toString())));
    host.once('exit', (code) => reject(new Error(`host exited early: ${code}`)));
  });
  onCleanup(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  return { host, pid };
}

describe('a host of process-isolated plugins killed with SIGKILL', () => {
  it('leaves no orphan: an idle plugin process ends with it', async () => {
    const { host, pid } = await hostWithPlugin('idle');
    expect(alive(pid)).toBe(true);
    host.kill('SIGKILL');
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
  });

  it('leaves no orphan: a plugin process busy in a loop that never yields ends with it too', async () => {
    const { host, pid } = await hostWithPlugin('spin');
    const before = cpuMs(pid);
    await expect.poll(() => cpuMs(pid) - before, { timeout: 10_000 }).toBeGreaterThan(200);
    host.kill('SIGKILL');
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
  });
});
