// Turns a bundle (a folder, or an archive of one) into what the store records: the validated
// manifest, the content digest (computed on the task pool) and the plugin ID.
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { findCycle } from '../../machines/dependency-graph.js';
import { PlugdError } from '../errors.js';
import { pluginId, readBundleManifest, type Manifest } from './manifest.js';
import type { PluginRecord, PluginSettings } from './store.js';
import type { TaskPool } from '../tasks/task-pool.js';
import type { PluginSource } from './registry/plugin-source.js';
import type { ProgressListener } from './registry/install-progress.js';
import { isNpmSpec } from './registry/npm-spec.js';
import { preparePackage } from './registry/prepare-package.js';

export interface PreparedBundle {
  /** The folder holding plugin.json: the bundle folder, or where its archive was unpacked. */
  dir: string;
  manifest: Manifest;
  digest: string;
  id: string;
  /** Removes what unpacking left (nothing for a folder). */
  dispose(): Promise<void>;
  /** Where a package from the registry came from; undefined for a folder or an archive. */
  source?: PluginSource;
}

/** What install() and upgrade() need besides the bundle. */
export interface InstallContext {
  tasks: TaskPool;
  scratchDir: () => Promise<string>;
  maxEntries: number;
  registryTimeoutMs: number;
  allowScripts?: boolean;
  onProgress?: ProgressListener;
  /** Aborted when the supervisor closes: the step under way ends, no later step starts. */
  signal?: AbortSignal;
}

/**
 * A bundle from wherever `bundle` says: `npm:name@range` from the npm registry (see
 * registry/prepare-package.ts), else a folder or an archive on disk.
 */
export async function prepareFrom(bundle: string, context: InstallContext): Promise<PreparedBundle> {
  const { tasks, maxEntries, signal } = context;
  if (!isNpmSpec(bundle)) return prepareBundle(bundle, tasks, context.scratchDir, { maxEntries, signal });
  const pkg = await preparePackage(bundle, {
    tasks,
    scratchDir: context.scratchDir,
    maxEntries,
    maxUnpackedBytes: MAX_UNPACKED_BYTES,
    timeoutMs: context.registryTimeoutMs,
    allowScripts: context.allowScripts === true,
    onProgress: context.onProgress,
    signal,
  });
  const dispose = () => rm(pkg.scratch, { recursive: true, force: true, maxRetries: 3 });
  try {
    signal?.throwIfAborted();
    return { ...(await describeBundle(pkg.dir, tasks, maxEntries, dispose, signal)), source: pkg.source };
  } catch (e) {
    await dispose();
    throw e;
  }
}

/** Bytes an archive may unpack to. */
const MAX_UNPACKED_BYTES = 512 * 1024 * 1024;

/** Files, folders and links a bundle may hold unless the host says otherwise (maxBundleEntries). */
export const DEFAULT_MAX_BUNDLE_ENTRIES = 10_000;

/**
 * Reads and checks a bundle: a folder, or an archive (.tgz, .tar.gz, .tar; `npm pack` output)
 * unpacked on the task pool into a scratch folder of the store. Either is refused past
 * `maxEntries` entries, an archive past 512 MiB unpacked. Once `signal` aborts, no step starts
 * after the one under way (an unpack is let finish: its thread's writes end with it), and the
 * scratch folder is removed before this rejects with the signal's reason.
 */
export async function prepareBundle(
  bundlePath: string,
  tasks: TaskPool,
  scratchDir: () => Promise<string>,
  limits: { maxEntries: number; signal?: AbortSignal } = { maxEntries: DEFAULT_MAX_BUNDLE_ENTRIES },
): Promise<PreparedBundle> {
  if (typeof bundlePath !== 'string' || bundlePath === '') {
    throw new PlugdError('PLUGD_E_OPTION', 'install() needs the path of a bundle folder or archive', { details: { option: 'bundleDir' } });
  }
  const source = path.resolve(bundlePath);
  const info = await stat(source).catch(() => null);
  const { maxEntries, signal } = limits;
  signal?.throwIfAborted();
  if (info?.isDirectory()) return describeBundle(source, tasks, maxEntries, async () => {}, signal);
  if (!info?.isFile()) {
    throw new PlugdError(
      'PLUGD_E_BUNDLE',
      `bundle ${source} is neither a folder nor an archive (a folder holding plugin.json, or a .tgz of one, is expected)`,
    );
  }
  const scratch = await scratchDir();
  // Retried: a refused archive's last writes may still land while the folder is removed.
  const dispose = () => rm(scratch, { recursive: true, force: true, maxRetries: 3 });
  try {
    const dir = await tasks.unpackBundle(source, scratch, { maxBytes: MAX_UNPACKED_BYTES, maxEntries });
    return await describeBundle(dir, tasks, maxEntries, dispose, signal);
  } catch (e) {
    await dispose();
    throw e;
  }
}

async function describeBundle(
  dir: string,
  tasks: TaskPool,
  maxEntries: number,
  dispose: () => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<PreparedBundle> {
  signal?.throwIfAborted();
  const manifest = await readBundleManifest(dir);
  const { digest } = await tasks.digestBundle(dir, maxEntries);
  return { dir, manifest, digest, id: pluginId(manifest, digest), dispose };
}

/** Refuses a bundle whose permissions were not granted, naming them. */
export function checkPermissions(manifest: Manifest, granted: boolean): string[] {
  const asked = manifest.permissions.env;
  if (asked.length > 0 && !granted) {
    throw new PlugdError(
      'PLUGD_E_PERMISSION',
      `plugin "${manifest.name}" asks to read the host env variables ${asked.join(', ')}; review them and install with { ` +
        `grantPermissions: true }`,
      { details: { permissions: manifest.permissions } },
    );
  }
  return granted ? [...asked] : [];
}

/** What install checks a new record against: every plugin known by name (installed or discovered). */
export interface InstalledPlugins {
  records(): PluginRecord[];
  requiresMap(): Map<string, string[]>;
}

/**
 * Refuses a plugin whose name or ID is taken (by another record than the one it `replaces`), or
 * whose requires would close a cycle.
 */
export function checkInstallable(store: InstalledPlugins, manifest: Manifest, id: string, replaces?: PluginRecord): void {
  const clash = store.records().find((r) => r !== replaces && (r.manifest.name === manifest.name || r.id === id));
  if (clash) {
    throw new PlugdError(
      'PLUGD_E_EXISTS',
      `plugin "${manifest.name}" is already installed (id ${clash.id.slice(0, 12)}); remove it first to install another version`,
    );
  }
  const requires = store.requiresMap();
  requires.set(manifest.name, manifest.requires);
  const cycle = findCycle(requires);
  if (cycle) {
    throw new PlugdError('PLUGD_E_CYCLE', `installing "${manifest.name}" would make a requires cycle: ${cycle.join(' -> ')}`, {
      details: { cycle },
    });
  }
}

/**
 * The settings an upgrade keeps: env settings the new version still declares settable (the
 * others come back in `dropped`), and granted host variables it still asks for. A variable it
 * newly asks for needs `granted`, as at install.
 */
export function carrySettings(old: PluginRecord, manifest: Manifest, granted: boolean): { settings: PluginSettings; dropped: string[] } {
  const asked = manifest.permissions.env;
  const newlyAsked = asked.filter((name) => !old.settings.grantedEnv.includes(name));
  if (newlyAsked.length > 0 && !granted) {
    throw new PlugdError(
      'PLUGD_E_PERMISSION',
      `plugin "${manifest.name}" ${manifest.version} newly asks to read the host env variables ${newlyAsked.join(', ')}; ` +
        `review them and upgrade with { grantPermissions: true }`,
      { details: { permissions: manifest.permissions } },
    );
  }
  const settable = new Set(manifest.env.filter((v) => v.settable).map((v) => v.name));
  const kept = old.settings.env.filter((pair) => settable.has(pair.slice(0, pair.indexOf('='))));
  const dropped = old.settings.env.filter((pair) => !kept.includes(pair));
  return { settings: { enabled: false, env: kept, grantedEnv: [...asked] }, dropped };
}
