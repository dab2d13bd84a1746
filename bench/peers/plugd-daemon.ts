// plugd as a process of its own, the counterpart of PM2's daemon: `plugd daemon` from the build
// (dist/, as an installed package runs it; rebuilt first when a source is newer), on a temp store
// with N copies of the peers server installed. The bench then enables them over the control
// socket, as PM2's side starts its apps over PM2's RPC, and reads the daemon's CPU from /proc.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { ApiClient } from '../../src/cli/api-client.js';
import { createSupervisor } from '../../src/index.js';
import { installCopies } from '../scenarios/plugd-fixtures.js';
import { SERVER_BUNDLE } from './plugd-side.js';
import { childrenOf, processesServing, processTable } from './proc.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(REPO, 'dist/src/cli/main.js');

/** The newest modification time of the files under `dir`, ms. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** Builds dist/ (scripts/build.mjs) unless it is newer than every source: the daemon must run the code under test. */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(MAIN).mtimeMs;
  } catch {
    /* no build yet */
  }
  if (built > Math.max(newest(path.join(REPO, 'src')), newest(path.join(REPO, 'machines')))) return;
  console.error('  peers: building dist/ for plugd daemon (a source is newer than the build)');
  execFileSync(process.execPath, [path.join(REPO, 'scripts/build.mjs')], { cwd: REPO, stdio: ['ignore', 2, 2] });
}

export interface PlugdDaemon {
  pid: number;
  names: string[];
  /** Enables every plugin over the control socket; each enable resolves once its plugin runs. */
  enableAll(): Promise<void>;
  sockets(): string[];
  /** The daemon's wrapper processes (its children). */
  wrappers(): number[];
  /** SIGTERM, as a service manager stops it; resolves with the plugin processes alive 2 s after its exit (killed then). */
  stop(): Promise<number[]>;
}

/** `plugd daemon` on a fresh store with `n` copies of the server installed (none enabled), once it says it is ready. */
export async function startPlugdDaemon(n: number): Promise<PlugdDaemon> {
  ensureBuilt();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugd-bench-daemon-'));
  const root = path.join(dir, 'store');
  const installer = await createSupervisor({ root, logger: pino({ level: 'silent' }), restore: false });
  const names = await installCopies(installer, dir, SERVER_BUNDLE, 'peer', n);
  await installer.close();
  const child = spawn(process.execPath, [MAIN, '--root', root, 'daemon'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await ready(child);
  const api = new ApiClient(path.join(root, 'plugd.sock'));
  return {
    pid: child.pid!,
    names,
    async enableAll() {
      await Promise.all(names.map((name) => api.request('POST', `/v1/plugins/${encodeURIComponent(name)}/enable`)));
    },
    sockets() {
      const run = path.join(root, 'run');
      return readdirSync(run, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => path.join(run, d.name, 'bench.sock'));
    },
    wrappers: () => childrenOf(child.pid!, processTable()),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const left = processesServing(dir);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
      }
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      return left;
    },
  };
}

/** Resolves once the daemon logs that it is ready (JSON lines on stderr); rejects if it ends first. */
function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (text.length < 100_000) text += chunk;
      if (text.includes('plugd daemon ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`plugd daemon ended (code ${code}) before it was ready: ${text.slice(-2_000)}`)));
  });
}
