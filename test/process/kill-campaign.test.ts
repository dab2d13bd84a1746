// A host SIGKILLed at random moments while it enables and disables process plugins: whatever
// moment the kill lands on (a wrapper still starting, a plugin activating, a stop in progress),
// no wrapper, plugin or plugin's child outlives the host. Processes are found by a marker unique
// to the run, carried in their command line or environment (the store's path is in both).
// PLUGD_KILL_CAMPAIGN=<n> sets the number of kills (50 by default; a long campaign runs 500).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundle, onCleanup, tempDir } from '../helpers.js';
import { describeProcess, killAll, marked, untilNoneMarked } from './proc-scan.js';

const HOST = fileURLToPath(new URL('../fixtures/enable-host.ts', import.meta.url));
const KILLS = Number(process.env.PLUGD_KILL_CAMPAIGN ?? 50);
/** Kill moments are drawn from [0, KILL_WINDOW_MS) after the host starts its loop. */
const KILL_WINDOW_MS = 400;
/** How long the processes of a killed host may take to end (the wrappers' grace is 1 s). */
const SETTLE_MS = 8_000;

describe(`a host SIGKILLed at random moments of enables and disables (${KILLS} kills)`, () => {
  it(
    'leaves 0 orphans: wrappers, plugins and their children all end with the host',
    async () => {
      const marker = `plugd-kill-${process.pid}-${randomBytes(4).toString('hex')}`;
      const root = path.join(await tempDir(`${marker}-`), 's');
      const bundles = await Promise.all(['a', 'b', 'c'].map((n) => bundle('proc-family', { name: `fam-${n}`, restart: 'no' })));
      onCleanup(() => killAll(marked(marker)));

      const orphans: string[] = [];
      for (let kill = 0; kill < KILLS; kill++) {
        const host = spawn(process.execPath, ['--import', 'tsx', HOST, root, ...bundles], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        host.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        const exited = new Promise<void>((resolve) => host.once('exit', () => resolve()));
        onCleanup(() => host.kill('SIGKILL'));
        await new Promise<void>((resolve, reject) => {
          host.stdout.once('data', () => resolve());
          host.once('exit', (code) => reject(new Error(`host exited before its loop (code ${code}): ${stderr}`)));
        });
        await new Promise((resolve) => setTimeout(resolve, Math.random() * KILL_WINDOW_MS)); // the random moment
        host.kill('SIGKILL');
        await exited;
        const left = await untilNoneMarked(marker, SETTLE_MS);
        orphans.push(...left.map(describeProcess).map((p) => `kill ${kill + 1}: ${p}`));
        killAll(left);
      }
      expect(orphans).toEqual([]);
    },
    120_000 + KILLS * 6_000,
  ); // each kill starts a host under tsx: 1–3 s, more on a loaded machine
});
