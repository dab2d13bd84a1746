import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alive, bundle, onCleanup, tempDir } from '../helpers.js';

const HOST = fileURLToPath(new URL('../fixtures/process-host.ts', import.meta.url));

describe('a host killed with SIGKILL', () => {
  it("leaves no orphan: the wrapper, the plugin and the plugin's own child all end", async () => {
    const root = path.join(await tempDir(), 'store');
    const host = spawn(process.execPath, ['--import', 'tsx', HOST, root, await bundle('proc-family')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onCleanup(() => host.kill('SIGKILL'));
    const pids = await new Promise<{ plugin: number; child: number }>((resolve, reject) => {
      host.stdout.once('data', (line: Buffer) => resolve(JSON.parse(line.toString())));
      host.once('exit', (code) => reject(new Error(`host exited early: ${code}`)));
    });
    const wrappers = execFileSync('ps', ['-o', 'pid=', '--ppid', String(host.pid)])
      .toString()
      .trim()
      .split(/\s+/)
      .map(Number);
    const all = [pids.plugin, pids.child, ...wrappers];
    onCleanup(() => {
      for (const pid of all) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    });
    expect(all.every(alive)).toBe(true);

    host.kill('SIGKILL');
    await expect.poll(() => all.filter(alive), { timeout: 10_000 }).toEqual([]);
  }, 30_000);
});
