// Installs a registry package's own dependencies into its unpacked folder with the npm CLI, run
// as a child process (never on the host's thread), before the bundle's digest is taken.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { stringify } from 'ini';
import { PlugdError } from '../../errors.js';
import type { NpmConfig } from './npm-config.js';

/** Settings about npm's own files and folders: the child gets its own, not the host's. */
const LOCAL_KEYS = new Set([
  'userconfig',
  'globalconfig',
  'cache',
  'prefix',
  'local-prefix',
  'global-prefix',
  'npm-version',
  'node-gyp',
  'init-module',
]);

/** The most of npm's stderr an error message quotes. */
const STDERR_TAIL_CHARS = 2_000;

export interface DependencyInstall {
  config: NpmConfig;
  /** Where npm's cache goes (a scratch folder). */
  cache: string;
  /** Where the layered npm settings are written for the child npm (outside the bundle). */
  userconfigFile: string;
  timeoutMs: number;
  /** Let the dependencies' (and the package's) install scripts run. */
  allowScripts: boolean;
  /** Kills npm (SIGKILL) when aborted; this rejects with the signal's reason once npm has exited. */
  signal?: AbortSignal;
}

/**
 * `npm install --omit=dev --ignore-scripts` in `dir`, with the registry settings of the install.
 * Refused with PLUGD_E_NOT_FOUND (a dependency that does not exist) or PLUGD_E_REGISTRY.
 */
export async function installDependencies(dir: string, spec: string, options: DependencyInstall): Promise<void> {
  // The child sees the same registries and tokens, whichever .npmrc they came from.
  const settings = Object.fromEntries(Object.entries(options.config).filter(([key]) => !LOCAL_KEYS.has(key)));
  await writeFile(options.userconfigFile, stringify(settings), { mode: 0o600 });
  const args = [
    'install',
    '--omit=dev',
    '--no-package-lock',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    '--loglevel=error',
    `--userconfig=${options.userconfigFile}`,
    `--cache=${options.cache}`,
    `--fetch-timeout=${options.timeoutMs}`,
    '--fetch-retries=0',
    options.allowScripts ? '--ignore-scripts=false' : '--ignore-scripts',
  ];
  const { code, stderr } = await run('npm', args, dir, Math.max(120_000, 4 * options.timeoutMs), options.signal);
  if (code === 0) return;
  const tail = stderr.slice(-STDERR_TAIL_CHARS).trim();
  if (/\bcode (E404|ETARGET)\b/.test(stderr)) {
    throw new PlugdError('PLUGD_E_NOT_FOUND', `a dependency of ${spec} is not in the registry:\n${tail}`, { details: { spec } });
  }
  if (/\bcode EINTEGRITY\b/.test(stderr)) {
    throw new PlugdError('PLUGD_E_INTEGRITY', `a dependency of ${spec} does not match its integrity:\n${tail}`, { details: { spec } });
  }
  throw new PlugdError('PLUGD_E_REGISTRY', `installing the dependencies of ${spec} failed (npm exited with ${code}):\n${tail}`, {
    details: { spec },
  });
}

function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<{ code: number | string; stderr: string }> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    // Not spawn's own `signal` option: it reports the abort as an 'error' before npm has exited.
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', kill, { once: true });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4 * STDERR_TAIL_CHARS);
    });
    child.on('error', (e) => {
      signal?.removeEventListener('abort', kill);
      reject(new PlugdError('PLUGD_E_REGISTRY', `cannot run npm to install the dependencies: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, killedBy) => {
      signal?.removeEventListener('abort', kill);
      if (signal?.aborted) reject(signal.reason);
      else resolve({ code: code ?? `signal ${killedBy}`, stderr });
    });
  });
}
