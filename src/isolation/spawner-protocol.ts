// Messages between the main thread and the spawner thread (entry/spawner-thread.mjs), which
// starts the wrappers of process plugins so that no fork blocks the host's event loop.

/** The lean wrapper's tools (process-instance.ts finds them); null runs the Node wrapper. */
export interface LeanTools {
  setpriv: string;
  nice: string | null;
}

/** What starts one process plugin: its command and where it talks, as its instance knows them. */
export interface PluginCommand {
  name: string;
  id: string;
  instance: number;
  /** The command: absolute, or a name looked up on PATH. */
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Where the plugin must listen; given to it as PLUGD_SOCKET. */
  socketPath: string;
  /** The log pump's socket for the plugin's stdout and stderr. */
  logSocket: string;
  /** Between SIGTERM and SIGKILL. */
  graceMs: number;
  /** Nice value of the wrapper, which the plugin inherits (pluginNice): the host comes first. */
  nice: number;
}

/** One wrapper to start: everything the thread needs, cloned with the message. */
export interface SpawnRequest extends PluginCommand {
  type: 'spawn';
  /** Numbers the wrappers of one spawner; every reply names it. */
  seq: number;
  lean: LeanTools | null;
  /** process-wrapper.mjs, for the Node wrapper. */
  nodeWrapper: string;
}

/** An error as it crosses the thread boundary (a structured clone drops `code`). */
export interface WireError {
  message: string;
  code?: string;
}

export type SpawnerRequest = SpawnRequest | { type: 'close' };

/**
 * What the thread reports about one wrapper, in this order: `failed`, or `spawned` (or `error`),
 * then `pid` or `malformed`, then `exit`.
 */
export type SpawnerReply =
  /** The log pump's sockets could not be connected: nothing was started. */
  | { type: 'failed'; seq: number; error: WireError }
  /** The wrapper runs with this pid. */
  | { type: 'spawned'; seq: number; pid: number }
  /** The wrapper could not be started (or its process reported an error). */
  | { type: 'error'; seq: number; error: WireError }
  /** The wrapper's "pid N" line, checked: N is the wrapper's child. */
  | { type: 'pid'; seq: number; pid: number }
  /** The wrapper wrote something else than "pid N" (the plugin can reach that pipe through /proc). */
  | { type: 'malformed'; seq: number }
  | { type: 'exit'; seq: number; code: number | null; signal: NodeJS.Signals | null };

/** What one wrapper's owner hears: the thread's replies (errors rebuilt), or that the thread itself ended. */
export type SpawnEvent =
  | { type: 'failed'; error: Error }
  | { type: 'spawned'; pid: number }
  | { type: 'error'; error: Error }
  | { type: 'pid'; pid: number }
  | { type: 'malformed' }
  | { type: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  /** The spawner thread ended unexpectedly: the kernel sends the wrapper SIGTERM (its parent-death signal). */
  | { type: 'lost'; error: Error };
