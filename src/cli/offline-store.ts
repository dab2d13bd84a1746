// Reads a store on disk without taking its lock, for `ls`, `inspect` and `logs` when no daemon
// serves the root: what is installed and its last log lines. Nothing here runs or writes.
import { open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { parseManifestText, type Manifest } from '../store/manifest.js';
import { findPlugin as findStored } from '../store/plugin-lookup.js';

/** What is known of a plugin without its supervisor: no state, it is not running. */
export interface OfflinePlugin {
  id: string;
  name: string;
  version: string;
  kind: Manifest['kind'];
  state: 'not running';
  idle: false;
  enabled: boolean;
  restarts: 0;
  implements: string[];
  requires: string[];
  lastError: null;
  instance: null;
  env: string[];
  permissions: { env: string[] };
}

const TAIL_BYTES = 512 * 1024;

export async function storeExists(root: string): Promise<boolean> {
  return readFile(path.join(root, 'plugins.json'), 'utf8').then(
    () => true,
    () => false,
  );
}

/** Every record the index names that can be read; a record half-written or corrupt is skipped. */
export async function readPlugins(root: string): Promise<OfflinePlugin[]> {
  let index: { plugins?: { id: string; name: string }[] };
  try {
    index = JSON.parse(await readFile(path.join(root, 'plugins.json'), 'utf8'));
  } catch {
    return [];
  }
  const plugins: OfflinePlugin[] = [];
  for (const entry of index.plugins ?? []) {
    try {
      const dir = path.join(root, 'plugins', entry.id);
      const manifest = parseManifestText(await readFile(path.join(dir, 'plugin.json'), 'utf8'));
      const settings = JSON.parse(await readFile(path.join(dir, 'settings.json'), 'utf8')) as {
        enabled?: boolean;
        env?: string[];
        grantedEnv?: string[];
      };
      plugins.push({
        id: entry.id,
        name: manifest.name,
        version: manifest.version,
        kind: manifest.kind,
        state: 'not running',
        idle: false,
        enabled: settings.enabled === true,
        restarts: 0,
        implements: [...manifest.interface.types],
        requires: [...manifest.requires],
        lastError: null,
        instance: null,
        env: settings.env ?? [],
        permissions: { env: settings.grantedEnv ?? [] },
      });
    } catch {
      // Being written, or corrupt: the supervisor reports it when it opens the store.
    }
  }
  return plugins.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** A plugin by name, full ID or ID prefix, as the supervisor resolves it. */
export function findPlugin(plugins: OfflinePlugin[], nameOrId: string): OfflinePlugin | undefined {
  return findStored({ list: () => plugins, keys: (p) => p }, nameOrId);
}

/** The last `count` lines of a plugin's log file, as raw NDJSON lines. */
export async function tailLogFile(root: string, id: string, count: number): Promise<string[]> {
  let handle: FileHandle;
  try {
    handle = await open(path.join(root, 'logs', `${id}.log`), 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n').filter(Boolean);
    if (length < size) lines.shift(); // cut by the window
    return lines.slice(-count);
  } finally {
    await handle.close();
  }
}
