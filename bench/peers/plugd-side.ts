// plugd supervising N copies of the peers bench's server as process plugins, on a temp store.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createSupervisor, type Supervisor, type SupervisorOptions } from '../../src/index.js';
import { childrenOf, cmdline, descendants, processesServing, processTable } from './proc.js';
import { installCopies } from '../scenarios/plugd-fixtures.js';

export const SERVER_BUNDLE = fileURLToPath(new URL('./server/', import.meta.url));
export const SERVER_SCRIPT = path.join(SERVER_BUNDLE, 'server.mjs');

export interface PlugdProcesses {
  sup: Supervisor;
  names: string[];
  root: string;
  /** The supervised programs' sockets, one per plugin. */
  sockets(): Promise<string[]>;
  /** Closes the supervisor; resolves with the plugin processes still alive 2 s later (killed then, so none outlives the bench). */
  dispose(): Promise<number[]>;
}

/** A supervisor with `n` copies of the server installed as process plugins (not enabled). */
export async function plugdWithServers(n: number, options: Partial<SupervisorOptions> = {}): Promise<PlugdProcesses> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'plugd-bench-peers-'));
  const root = path.join(dir, 'store');
  // PM2 waits for its apps without a deadline (the bench polls them for up to 60 s): the same
  // 60 s for plugd's activations, since a loaded machine boots 50 Node processes slowly.
  const sup = await createSupervisor({ root, logger: pino({ level: 'silent' }), restore: false, activationTimeoutMs: 60_000, ...options });
  const names = await installCopies(sup, dir, SERVER_BUNDLE, 'peer', n);
  return {
    sup,
    names,
    root,
    async sockets() {
      const run = path.join(root, 'run');
      const dirs = (await readdir(run, { withFileTypes: true })).filter((d) => d.isDirectory());
      return dirs.map((d) => path.join(run, d.name, 'bench.sock'));
    },
    async dispose() {
      await sup.close();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const left = processesServing(dir);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
      }
      // A log file may still be flushed just after close(): retry while the folder empties.
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      return left;
    },
  };
}

/** The host's wrapper processes (its children running the shell wrapper, or process-wrapper.mjs) and the plugins below them. */
export function plugdTree(): { wrappers: number[]; plugins: number[] } {
  const table = processTable();
  const wrappers = childrenOf(process.pid, table).filter((pid) => /process-wrapper|plugd-wrapper/.test(cmdline(pid)));
  return { wrappers, plugins: wrappers.flatMap((w) => descendants(w, table)) };
}
