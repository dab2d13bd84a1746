// Turns a bundle folder into what the store records: the validated manifest, the content
// digest (computed on the task pool) and the plugin ID.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { findCycle } from '../machines/dependency-graph.js';
import { PlugdError } from './errors.js';
import { pluginId, readBundleManifest, type Manifest } from './manifest.js';
import type { Store } from './store.js';
import type { TaskPool } from './tasks/task-pool.js';

export interface PreparedBundle {
  dir: string;
  manifest: Manifest;
  digest: string;
  id: string;
}

export async function prepareBundle(bundleDir: string, tasks: TaskPool): Promise<PreparedBundle> {
  if (typeof bundleDir !== 'string' || bundleDir === '') {
    throw new PlugdError('PLUGD_E_OPTION', 'install() needs the path of a bundle folder', { details: { option: 'bundleDir' } });
  }
  const dir = path.resolve(bundleDir);
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) {
    throw new PlugdError('PLUGD_E_BUNDLE', `bundle ${dir} is not a folder (a folder holding plugin.json is expected)`);
  }
  const manifest = await readBundleManifest(dir);
  const { digest } = await tasks.digestBundle(dir);
  return { dir, manifest, digest, id: pluginId(manifest, digest) };
}

/** Refuses a bundle whose permissions were not granted, naming them. */
export function checkPermissions(manifest: Manifest, granted: boolean): string[] {
  const asked = manifest.permissions.env;
  if (asked.length > 0 && !granted) {
    throw new PlugdError('PLUGD_E_PERMISSION', `plugin "${manifest.name}" asks to read the host env variables ${asked.join(', ')}; review them and install with { grantPermissions: true }`, { details: { permissions: manifest.permissions } });
  }
  return granted ? [...asked] : [];
}

/** Refuses a plugin whose name or ID is taken, or whose requires would close a cycle. */
export function checkInstallable(store: Store, manifest: Manifest, id: string): void {
  const clash = store.list().find((r) => r.manifest.name === manifest.name || r.id === id);
  if (clash) {
    throw new PlugdError('PLUGD_E_EXISTS', `plugin "${manifest.name}" is already installed (id ${clash.id.slice(0, 12)}); remove it first to install another version`);
  }
  const requires = store.requiresMap();
  requires.set(manifest.name, manifest.requires);
  const cycle = findCycle(requires);
  if (cycle) {
    throw new PlugdError('PLUGD_E_CYCLE', `installing "${manifest.name}" would make a requires cycle: ${cycle.join(' -> ')}`, { details: { cycle } });
  }
}
