// Runs the real `plugd` binary (bin/plugd.js) for tests: one-shot commands, followers, daemons.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onCleanup } from '../helpers.js';

export const PLUGD = fileURLToPath(new URL('../../bin/plugd.js', import.meta.url));

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
}

/** Extra env variables for a plugd process; undefined removes one inherited from the tests. */
export type Env = Record<string, string | undefined>;

function spawnPlugd(root: string, env: Env, args: string[]): ChildProcess {
  return spawn(process.execPath, [PLUGD, ...args], {
    env: { ...process.env, PLUGD_ROOT: root, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `plugd ...args` with PLUGD_ROOT=root and resolves with its exit code and output. */
export function plugd(root: string, ...args: string[]): Promise<Outcome> {
  return plugdWith({}, root, ...args);
}

/** `plugd` with extra env variables (PLUGD_URL, PLUGD_TOKEN). */
export async function plugdWith(env: Env, root: string, ...args: string[]): Promise<Outcome> {
  const child = spawnPlugd(root, env, args);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    stdout += t;
  });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => {
    stderr += t;
  });
  const code = await exited(child);
  return { code, stdout, stderr };
}

/** A long-running plugd (daemon, logs -f, events -f): its output so far, waits for text in it, and its end. */
export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout (or stderr) holds `text`. */
  waitFor(text: string | RegExp, stream?: 'stdout' | 'stderr'): Promise<void>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export function start(root: string, ...args: string[]): Running {
  return startWith({}, root, ...args);
}

/** `start` with extra env variables (PLUGD_URL, PLUGD_TOKEN). */
export function startWith(env: Env, root: string, ...args: string[]): Running {
  const child = spawnPlugd(root, env, args);
  const out = { stdout: '', stderr: '' };
  const waiters: { text: string | RegExp; stream: 'stdout' | 'stderr'; resolve: () => void }[] = [];
  const matches = (w: (typeof waiters)[number]) =>
    typeof w.text === 'string' ? out[w.stream].includes(w.text) : w.text.test(out[w.stream]);
  const check = () => {
    for (const w of [...waiters])
      if (matches(w)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    out.stdout += t;
    check();
  });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => {
    out.stderr += t;
    check();
  });
  const done = exited(child);
  const running: Running = {
    child,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    exited: done,
    waitFor: (text, stream = 'stdout') =>
      new Promise<void>((resolve, reject) => {
        const w = { text, stream, resolve };
        if (matches(w)) return resolve();
        waiters.push(w);
        void done.then((code) =>
          reject(new Error(`plugd ${args.join(' ')} exited (${code}) before printing ${String(text)}:\n${out.stdout}\n${out.stderr}`)),
        );
      }),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return done;
    },
  };
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await done;
  });
  return running;
}

/** A `plugd daemon` on `root`, resolved once it serves (its plugins restored). */
export async function daemon(root: string): Promise<Running> {
  const d = start(root, 'daemon');
  await d.waitFor('plugd daemon ready', 'stderr');
  return d;
}
