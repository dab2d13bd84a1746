// PM2 through its programmatic API, with its home in a temp folder (PM2_HOME, set before PM2 is
// loaded: its paths are fixed at require time), so the user's ~/.pm2 is never touched. Each
// start() brings up a fresh daemon; stop() kills it (pm2.killDaemon) and removes the home.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { StartOptions } from 'pm2';
import { cmdline, descendants } from './proc.js';

type Pm2 = typeof import('pm2');
let loaded: { pm2: Pm2; home: string } | null = null;

async function load(): Promise<{ pm2: Pm2; home: string }> {
  if (loaded) return loaded;
  const home = await mkdtemp(path.join(os.tmpdir(), 'plugd-bench-pm2-'));
  process.env.PM2_HOME = home;
  process.env.PM2_PROGRAMMATIC = 'true'; // no banner, no first-run version check
  process.env.PM2_DISABLE_VERSION_CHECK = 'true';
  process.env.PM2_SILENT = 'true';
  const pm2 = createRequire(import.meta.url)('pm2') as Pm2;
  loaded = { pm2, home };
  return loaded;
}

const callback = <T>(fn: (cb: (err: unknown, value: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

export const pm2Version = (): string => (createRequire(import.meta.url)('pm2/package.json') as { version: string }).version;

export interface Pm2Daemon {
  /** The daemon's (God's) pid. */
  pid: number;
  home: string;
  /** Starts the apps, each with its own PLUGD_SOCKET; resolves when PM2 says they are launched. */
  startApps(apps: { name: string; script: string; socket: string }[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startPm2(): Promise<Pm2Daemon> {
  const { pm2, home } = await load();
  await callback<void>((cb) => pm2.connect((err) => cb(err, undefined)));
  const pidFile = path.join(home, 'pm2.pid');
  if (!existsSync(pidFile)) throw new Error(`PM2 wrote no ${pidFile}`);
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  let stopped = false;
  return {
    pid,
    home,
    async startApps(apps) {
      const config = apps.map(
        (a): StartOptions => ({
          name: a.name,
          script: a.script,
          interpreter: process.execPath,
          exec_mode: 'fork',
          autorestart: true,
          env: { PLUGD_SOCKET: a.socket },
        }),
      );
      await callback((cb) => pm2.start({ apps: config } as unknown as StartOptions, cb));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const apps = descendants(pid).filter((p) => /server\.mjs|ProcessContainer/.test(cmdline(p)));
      try {
        await callback((cb) => pm2.killDaemon(cb));
      } finally {
        pm2.disconnect();
        // With the daemon gone, disconnect() leaves PM2's RPC sockets reconnecting forever (it
        // closes only connected ones), which would keep the bench alive: close them here.
        const client = (pm2 as unknown as { Client?: { client_sock?: { close?: () => void }; sub_sock?: { close?: () => void } } }).Client;
        for (const sock of [client?.client_sock, client?.sub_sock]) {
          try {
            sock?.close?.();
          } catch {
            /* closed already */
          }
        }
        // If the daemon outlived killDaemon, it goes now: nothing of PM2 outlives the bench.
        for (const p of [pid, ...apps]) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            /* gone, as it should be */
          }
        }
      }
    },
  };
}

/** Removes PM2's temp home (after the last daemon is gone). */
export async function removePm2Home(): Promise<void> {
  if (loaded) await rm(loaded.home, { recursive: true, force: true });
}
