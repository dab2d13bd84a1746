// The Node flags that confine a plugin run with "isolation": "process": the permission model
// (reads limited to its bundle and plugd's entry, writes to its data folder, no child processes,
// no workers, no addons), its heap limit, and an environment that holds only the plugin's own.
import { existsSync } from 'node:fs';

const [MAJOR = 0, MINOR = 0] = process.versions.node.split('.').map(Number);

/** `--permission` from Node 22 on; Node 20 and 21 call it `--experimental-permission`. */
export const PERMISSION_FLAG = MAJOR >= 22 ? '--permission' : '--experimental-permission';

/** `--disable-warning` exists from Node 20.11 and 21.3: the model's ExperimentalWarning is noise in the plugin's log. */
const CAN_DISABLE_WARNING = MAJOR > 21 || (MAJOR === 21 && MINOR >= 3) || (MAJOR === 20 && MINOR >= 11);

export interface Confinement {
  /** Files and folders the plugin may read (folders with everything below them). */
  read: string[];
  /** Folders the plugin may write to. */
  write: string[];
  /** The heap limit, --max-old-space-size. */
  memoryLimitMb: number;
}

/** The node flags for a confined plugin, before the entry file. */
export function permissionFlags(c: Confinement): string[] {
  const flags = [PERMISSION_FLAG];
  if (CAN_DISABLE_WARNING) flags.push('--disable-warning=ExperimentalWarning');
  // One flag per path: Node 20.20 and 22 no longer split a comma-separated list.
  for (const p of new Set(c.read)) flags.push(`--allow-fs-read=${p}`);
  for (const p of new Set(c.write)) flags.push(`--allow-fs-write=${p}`);
  flags.push(`--max-old-space-size=${c.memoryLimitMb}`);
  return flags;
}

/**
 * The plugin's env for its process. Node reads NODE_OPTIONS (which could grant
 * --allow-child-process), NODE_V8_COVERAGE, NODE_REDIRECT_WARNINGS... before the permission
 * model applies: every NODE_* variable but NODE_ENV is left out.
 */
export function confinedEnv(env: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('NODE_') || name === 'NODE_ENV') kept[name] = value;
  }
  return kept;
}

/**
 * util-linux's setpriv, to start the plugin with a parent-death signal (PR_SET_PDEATHSIG): the
 * kernel kills it with the host even when its event loop is too busy to notice. Null without it.
 */
export const SETPRIV = process.platform === 'linux' ? (['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null) : null;
