// Piscina task: unpacks a bundle archive (.tgz, .tar.gz or .tar; `npm pack` makes them) into a
// scratch folder of the store, off the main thread. node-tar already keeps entries inside the
// target (no absolute paths, no `..`, no links out); this also refuses hard links, devices and
// every entry node-tar would skip without a word (GNU sparse files, unknown typeflags), and stops
// at a bound on bytes and on entries, so an archive can neither reach out, nor install with files
// missing, nor fill the disk or hold the store's queue.
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Unpack } from 'tar';

/** Entry types a bundle may hold. */
const KEPT = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink']);

/** An entry's path as it may appear in a message: short, printable. @param {unknown} entryPath */
function shown(entryPath) {
  const printable = String(entryPath).replace(/[^\x20-\x7e]/g, '?');
  return `"${printable.length > 80 ? `${printable.slice(0, 77)}...` : printable}"`;
}

/**
 * The outcome comes back as data: piscina clones a thrown error, which loses its `code`.
 * `marker` is the file that marks the bundle's root: plugin.json, or package.json for a package
 * from the npm registry (whose manifest may sit in package.json's "plugd" field).
 * @param {{ archive: string, into: string, maxBytes: number, maxEntries: number, marker?: string }} task
 * @returns {Promise<{ ok: true, dir: string, bytes: number, entries: number } | { ok: false, message: string }>}
 */
export default async function unpackBundle({ archive, into, maxBytes, maxEntries, marker = 'plugin.json' }) {
  /** @type {string[]} */
  const refused = [];
  /** @type {string | null} */
  let overLimit = null;
  let bytes = 0;
  let entries = 0;
  const source = createReadStream(archive);
  const unpack = new Unpack({
    cwd: into,
    strict: true, // a path that would leave the folder is an error, not a warning
    chmod: true, // keep the exec bits: the plugin ID and process plugins' `exec` depend on them
    processUmask: 0o022,
    // Called for every entry node-tar would write; the ones it skips by itself come as 'ignoredEntry'.
    filter: (entryPath, entry) => {
      const type = 'type' in entry ? entry.type : 'File';
      if (!KEPT.has(type)) {
        refused.push(`${shown(entryPath)} (${type})`);
        stop();
        return false;
      }
      entries += 1;
      bytes += entry.size ?? 0;
      if (entries > maxEntries) overLimit = `holds more than ${maxEntries} entries (the maxBundleEntries option)`;
      else if (bytes > maxBytes) overLimit = `unpacks to more than ${maxBytes} bytes`;
      if (overLimit) stop();
      return overLimit === null;
    },
  });
  // GNU sparse files, unknown types, oversized metadata: node-tar skips them without calling the
  // filter, and the bundle would install with files missing.
  unpack.on('ignoredEntry', (entry) => {
    if (!refused.some((r) => r.startsWith(shown(entry.path))))
      refused.push(`${shown(entry.path)} (${entry.type}, not a plain file, folder or symlink)`);
    stop();
  });
  let stopped = false;
  function stop() {
    if (stopped) return;
    stopped = true;
    source.destroy();
    unpack.abort(new Error('refused'));
  }
  const done = new Promise((resolve, reject) => {
    unpack.on('close', resolve);
    unpack.on('error', reject);
    source.on('error', reject);
  });
  source.pipe(unpack);
  try {
    await done;
  } catch (e) {
    if (!stopped) return { ok: false, message: `${archive} cannot be unpacked as a bundle: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (refused.length > 0) return { ok: false, message: `${archive} holds entries a bundle may not: ${refused.slice(0, 5).join(', ')}` };
  if (overLimit) return { ok: false, message: `${archive} ${overLimit}` };
  // plugin.json at the root, or in the one folder the archive holds (npm pack's `package/`).
  if (await isFile(path.join(into, marker))) return { ok: true, dir: into, bytes, entries };
  const top = await readdir(into, { withFileTypes: true });
  const only = top.length === 1 && top[0]?.isDirectory() ? path.join(into, top[0].name) : null;
  if (only && (await isFile(path.join(only, marker)))) return { ok: true, dir: only, bytes, entries };
  return { ok: false, message: `${archive} has no ${marker} at its root or in its single top folder` };
}

/** A regular file, not a link to one. @param {string} file */
async function isFile(file) {
  return (await lstat(file).catch(() => null))?.isFile() === true;
}
