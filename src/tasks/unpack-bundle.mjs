// Piscina task: unpacks a bundle archive (.tgz, .tar.gz or .tar; `npm pack` makes them) into a
// scratch folder of the store, off the main thread. node-tar already keeps entries inside the
// target (no absolute paths, no `..`, no links out); this also refuses hard links and devices,
// and stops at a size bound, so an archive can neither reach out nor fill the disk.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { extract } from 'tar';

/** Entry types a bundle may hold. */
const KEPT = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink']);

/**
 * The outcome comes back as data: piscina clones a thrown error, which loses its `code`.
 * @param {{ archive: string, into: string, maxBytes: number }} task
 * @returns {Promise<{ ok: true, dir: string, bytes: number } | { ok: false, message: string }>}
 */
export default async function unpackBundle({ archive, into, maxBytes }) {
  /** @type {string[]} */
  const refused = [];
  let bytes = 0;
  try {
    await extract({
      file: archive,
      cwd: into,
      strict: true, // a path that would leave the folder is an error, not a warning
      chmod: true, // keep the exec bits: the plugin ID and process plugins' `exec` depend on them
      processUmask: 0o022,
      filter: (entryPath, entry) => {
        const type = 'type' in entry ? entry.type : 'File';
        if (!KEPT.has(type)) {
          refused.push(`"${entryPath}" (${type})`);
          return false;
        }
        bytes += entry.size ?? 0;
        return bytes <= maxBytes;
      },
    });
  } catch (e) {
    return { ok: false, message: `${archive} cannot be unpacked as a bundle: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (bytes > maxBytes) return { ok: false, message: `${archive} unpacks to more than ${maxBytes} bytes` };
  if (refused.length > 0) return { ok: false, message: `${archive} holds entries a bundle may not: ${refused.slice(0, 5).join(', ')}` };
  // plugin.json at the root, or in the one folder the archive holds (npm pack's `package/`).
  if (await isFile(path.join(into, 'plugin.json'))) return { ok: true, dir: into, bytes };
  const entries = await readdir(into, { withFileTypes: true });
  const only = entries.length === 1 && entries[0]?.isDirectory() ? path.join(into, entries[0].name) : null;
  if (only && (await isFile(path.join(only, 'plugin.json')))) return { ok: true, dir: only, bytes };
  return { ok: false, message: `${archive} has no plugin.json at its root or in its single top folder` };
}

/** @param {string} file */
async function isFile(file) {
  return (await stat(file).catch(() => null))?.isFile() === true;
}
