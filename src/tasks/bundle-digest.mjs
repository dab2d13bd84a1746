// Piscina task: the content digest of a bundle folder (runs on the task pool, never the main thread).
// The digest covers every file's relative path, mode bit for "executable" and sha256, in sorted order,
// so the same bytes give the same digest on any machine. Anything else (a fifo, a socket, a
// device) is refused: the ID would not cover it and the store could not copy it faithfully.
// A symlink is kept only if it means the same thing once the bundle is copied into the store: its
// target is relative and resolves, hop by hop, without ever leaving the bundle. An absolute link
// (even one into the bundle) would keep the installed plugin tied to the folder it came from.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';

/** Symlinks followed while resolving one path, as the kernel allows (ELOOP past 40). */
const MAX_HOPS = 40;

/** @param {string} message */
function bundleError(message) {
  return Object.assign(new Error(message), { code: 'PLUGD_E_BUNDLE' });
}

/**
 * Resolves `relPath` the way the kernel would, but inside `root` only: null if any step (a
 * `..` above the root, an absolute target) leaves it, or if it leads to nothing.
 * @param {string} root
 * @param {string} relPath
 */
async function resolvesInside(root, relPath) {
  let hops = 0;
  /** @param {string[]} base @param {string} target @returns {Promise<string[] | null>} */
  async function walk(base, target) {
    if (path.isAbsolute(target)) return null;
    const parts = [...base];
    for (const part of target.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (parts.length === 0) return null;
        parts.pop();
        continue;
      }
      parts.push(part);
      const info = await lstat(path.join(root, ...parts)).catch(() => null);
      if (info === null) return null;
      if (info.isSymbolicLink()) {
        if (++hops > MAX_HOPS) return null;
        const next = await walk(parts.slice(0, -1), await readlink(path.join(root, ...parts)));
        if (next === null) return null;
        parts.splice(0, parts.length, ...next);
      }
    }
    return parts;
  }
  return walk([], relPath);
}

/** @param {import('node:fs').Stats} info */
function kindOf(info) {
  if (info.isFIFO()) return 'fifo';
  if (info.isSocket()) return 'socket';
  if (info.isCharacterDevice()) return 'character device';
  if (info.isBlockDevice()) return 'block device';
  return 'special file';
}

/**
 * @param {{ dir: string, maxEntries?: number }} task
 * @returns {Promise<import('./task-types.ts').BundleDigest>}
 */
export default async function bundleDigest({ dir, maxEntries = Number.POSITIVE_INFINITY }) {
  const root = await realpath(dir);
  /** @type {string[]} */
  const entries = [];
  let bytes = 0;
  let files = 0;
  let seen = 0;
  /** @param {string} rel */
  async function walk(rel) {
    const names = (await readdir(path.join(root, rel))).sort();
    seen += names.length;
    if (seen > maxEntries) throw bundleError(`bundle ${dir} holds more than ${maxEntries} entries (the maxBundleEntries option)`);
    for (const name of names) {
      const relPath = rel ? `${rel}/${name}` : name;
      const full = path.join(root, relPath);
      const info = await lstat(full);
      if (info.isSymbolicLink()) {
        const target = await readlink(full);
        if (path.isAbsolute(target)) {
          throw bundleError(
            `bundle ${dir}: symlink "${relPath}" is absolute; an installed bundle cannot depend on files outside the ` +
              `store: make it relative, or replace it by the file`,
          );
        }
        if ((await resolvesInside(root, relPath)) === null) {
          throw bundleError(`bundle ${dir}: symlink "${relPath}" points outside the bundle (or to nothing in it)`);
        }
        entries.push(`l ${relPath} -> ${target}`);
      } else if (info.isDirectory()) {
        await walk(relPath);
      } else if (info.isFile()) {
        const content = await readFile(full);
        bytes += content.length;
        files += 1;
        const exec = info.mode & 0o111 ? 'x' : '-';
        entries.push(`f ${relPath} ${exec} ${createHash('sha256').update(content).digest('hex')}`);
      } else {
        // A fifo, a socket or a device: the digest could not cover it and the copy could not
        // keep it (a fifo blocks, a device would be read into a plain file).
        throw bundleError(
          `bundle ${dir}: "${relPath}" is a ${kindOf(info)}; a bundle holds only files, folders and relative symlinks inside it`,
        );
      }
    }
  }
  await walk('');
  return { digest: createHash('sha256').update(entries.join('\n')).digest('hex'), files, bytes };
}
