// The store's invariants, read from disk: the index, the record folders and the bundles agree,
// nothing half-done is left lying around, and no process of a dead host is still alive.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { marked } from '../../process/proc-scan.js';
import bundleDigest from '../../../src/tasks/bundle-digest.mjs';
import { parseManifestText, pluginId } from '../../../src/store/manifest.js';

const ID = /^[0-9a-f]{64}$/;

/** What is wrong between plugins.json, plugins/<id>/ and the bundles (empty when they agree). */
export async function storeDisagreements(root: string): Promise<string[]> {
  const wrong: string[] = [];
  let index: { id: string; name: string }[] = [];
  try {
    const parsed = JSON.parse(await readFile(path.join(root, 'plugins.json'), 'utf8')) as {
      version: number;
      plugins: { id: string; name: string }[];
    };
    if (parsed.version !== 1 || !Array.isArray(parsed.plugins)) wrong.push('plugins.json has an unexpected shape');
    else index = parsed.plugins;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') wrong.push(`plugins.json cannot be read: ${(e as Error).message}`);
  }
  const names = new Set<string>();
  for (const { id, name } of index) {
    if (names.has(name)) wrong.push(`the index names "${name}" twice`);
    names.add(name);
    const dir = path.join(root, 'plugins', id);
    try {
      const manifest = parseManifestText(await readFile(path.join(dir, 'plugin.json'), 'utf8'));
      JSON.parse(await readFile(path.join(dir, 'settings.json'), 'utf8'));
      if (!(await stat(path.join(dir, 'bundle'))).isDirectory()) throw new Error('bundle is not a folder');
      if (manifest.name !== name) wrong.push(`record ${id.slice(0, 12)} holds "${manifest.name}", the index says "${name}"`);
      const { digest } = await bundleDigest({ dir: path.join(dir, 'bundle') });
      if (pluginId(manifest, digest) !== id) wrong.push(`record ${id.slice(0, 12)} (${name}): its bundle's digest gives another ID`);
    } catch (e) {
      wrong.push(`record ${id.slice(0, 12)} (${name}) is incomplete: ${(e as Error).message}`);
    }
  }
  const indexed = new Set(index.map((entry) => entry.id));
  for (const entry of await readdir(path.join(root, 'plugins')).catch(() => [])) {
    if (ID.test(entry) && !indexed.has(entry)) wrong.push(`record folder ${entry.slice(0, 12)} is not in the index`);
  }
  return wrong;
}

/**
 * Leftovers of interrupted work: temp files of atomic writes, in-progress install folders, and
 * run/<id>/ folders of plugins that are not running (`running`: the run folder names in use).
 */
export async function debris(root: string, running: ReadonlySet<string>): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, entry.name);
      if (entry.name.endsWith('.tmp')) found.push(path.relative(root, full));
      // A bundle's own files are the plugin's business, not the store's.
      if (entry.isDirectory() && !(entry.name === 'bundle' && path.dirname(dir) === path.join(root, 'plugins'))) await walk(full);
    }
  }
  await walk(root);
  for (const entry of await readdir(path.join(root, 'plugins')).catch(() => [])) {
    if (entry.startsWith('.incoming-')) found.push(`plugins/${entry}`);
  }
  for (const entry of await readdir(path.join(root, 'run'), { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory() && !running.has(entry.name)) found.push(`run/${entry.name}/`);
  }
  return found;
}

/** Kills what marked() finds (cleanup after a failed check). */
export async function killMarked(marker: string): Promise<void> {
  for (const pid of marked(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
