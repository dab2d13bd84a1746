// Piscina task: the content digest of a bundle folder (runs on the task pool, never the main thread).
// The digest covers every file's relative path, mode bit for "executable" and sha256, in sorted order,
// so the same bytes give the same digest on any machine. Symlinks that leave the bundle are refused.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';

/**
 * @param {{ dir: string }} task
 * @returns {Promise<import('./task-types.ts').BundleDigest>}
 */
export default async function bundleDigest({ dir }) {
  const root = await realpath(dir);
  /** @type {string[]} */
  const entries = [];
  let bytes = 0;
  let files = 0;
  /** @param {string} rel */
  async function walk(rel) {
    const names = (await readdir(path.join(root, rel))).sort();
    for (const name of names) {
      const relPath = rel ? `${rel}/${name}` : name;
      const full = path.join(root, relPath);
      const info = await lstat(full);
      if (info.isSymbolicLink()) {
        const target = await realpath(full).catch(() => null);
        if (target === null || (target !== root && !target.startsWith(root + path.sep))) {
          const error = new Error(`bundle ${dir}: symlink "${relPath}" points outside the bundle`);
          Object.assign(error, { code: 'PLUGD_E_BUNDLE' });
          throw error;
        }
        entries.push(`l ${relPath} -> ${await readlink(full)}`);
      } else if (info.isDirectory()) {
        await walk(relPath);
      } else if (info.isFile()) {
        const content = await readFile(full);
        bytes += content.length;
        files += 1;
        const exec = info.mode & 0o111 ? 'x' : '-';
        entries.push(`f ${relPath} ${exec} ${createHash('sha256').update(content).digest('hex')}`);
      }
    }
  }
  await walk('');
  return { digest: createHash('sha256').update(entries.join('\n')).digest('hex'), files, bytes };
}
