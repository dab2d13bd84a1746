// Makes `plugd` and `plugd/sdk` resolve, inside every plugin plugd runs, to the host's own copy
// of plugd, wherever the store lives: the store root gets `node_modules/plugd`, a symlink to the
// folder of the plugd package this module belongs to. Node resolves a bare specifier by walking
// up from the importing file, and every plugin's files sit under <root>/plugins/<id>/bundle/, so
// worker and process plugins (`node`, tsx or any Node-based runner) find it with no loader hook
// and no flag. (A `module.register` resolve hook starts a loader thread per plugin thread in
// Node 20: tens of milliseconds and one more thread for each plugin.) A bundle that ships
// its own node_modules/plugd keeps it: the nearest node_modules wins, as everywhere in Node.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'plugd';

/** The folder of the plugd package that holds this module, or null (plugd bundled into a host). */
export async function hostPackageRoot(from: string = fileURLToPath(import.meta.url)): Promise<string | null> {
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (manifest.name === PACKAGE_NAME) return dir;
    } catch {
      // no package.json here, or not one we can read: keep climbing
    }
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * Points `<root>/node_modules/plugd` at the host's plugd package (replacing a link left by
 * another copy of plugd, atomically). Resolves with the link's target, or null when there is no
 * package to point at. A folder someone put there is left alone.
 */
export async function linkHostPackage(root: string, packageRoot?: string | null): Promise<string | null> {
  const target = packageRoot === undefined ? await hostPackageRoot() : packageRoot;
  if (target === null) return null;
  const dir = path.join(root, 'node_modules');
  const link = path.join(dir, PACKAGE_NAME);
  if ((await readlink(link).catch(() => null)) === target) return target;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.${PACKAGE_NAME}-${randomBytes(6).toString('hex')}`);
  await symlink(target, temp, 'dir');
  try {
    await rename(temp, link);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  return target;
}
