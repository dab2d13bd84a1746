// An `npm:` spec to a prepared bundle: resolve, download and verify (pacote), unpack (task pool),
// the manifest from the package, its dependencies (npm, a child process), then the digest. All
// of it happens in one scratch folder of the store, removed on any refusal or abort.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { readBundleManifest } from '../manifest.js';
import type { TaskPool } from '../../tasks/task-pool.js';
import { reporter, type ProgressListener } from './install-progress.js';
import { fetchPackage } from './fetch-package.js';
import type { PluginSource } from './plugin-source.js';
import { installDependencies } from './install-dependencies.js';
import { loadNpmConfig, type NpmConfig } from './npm-config.js';
import { parseNpmSpec } from './npm-spec.js';
import { ensurePluginManifest } from './package-manifest.js';

export interface PackageInstallOptions {
  tasks: TaskPool;
  scratchDir: () => Promise<string>;
  maxEntries: number;
  maxUnpackedBytes: number;
  timeoutMs: number;
  allowScripts: boolean;
  onProgress?: ProgressListener;
  /** The npm settings; default: the host's .npmrc files and npm_config_* variables. */
  npmConfig?: () => Promise<NpmConfig>;
  /**
   * Aborted when the install is called off: a download or a dependency install under way is
   * stopped (its socket destroyed, its npm killed), an unpack is let finish, no later step starts.
   */
  signal?: AbortSignal;
}

export interface PreparedPackage {
  /** The package folder, holding plugin.json and its dependencies. */
  dir: string;
  source: PluginSource;
  scratch: string;
}

/**
 * Brings the package `rawSpec` names into a scratch folder as a bundle (plugin.json at its root,
 * dependencies installed). On a refusal or an abort (rejected with the signal's reason) the
 * scratch folder is gone before the error surfaces.
 */
export async function preparePackage(rawSpec: string, options: PackageInstallOptions): Promise<PreparedPackage> {
  const spec = parseNpmSpec(rawSpec);
  const progress = reporter(options.onProgress);
  const { signal } = options;
  const config = await (options.npmConfig ?? loadNpmConfig)();
  signal?.throwIfAborted();
  const scratch = await options.scratchDir();
  const cache = path.join(scratch, 'cache');
  try {
    const fetched = await fetchPackage(spec, {
      config,
      cache,
      timeoutMs: options.timeoutMs,
      tarballFile: path.join(scratch, 'package.tgz'),
      progress,
      signal,
    });
    progress({ step: 'unpack' });
    const into = path.join(scratch, 'unpacked');
    await mkdir(into);
    const dir = await options.tasks.unpackBundle(fetched.tarball, into, {
      maxBytes: options.maxUnpackedBytes,
      maxEntries: options.maxEntries,
      marker: 'package.json',
    });
    const { dependencies } = await ensurePluginManifest(dir, `${fetched.name}@${fetched.version}`);
    await readBundleManifest(dir); // a bad manifest is refused before npm runs
    signal?.throwIfAborted();
    if (dependencies.length > 0) {
      progress({ step: 'dependencies', count: dependencies.length });
      await installDependencies(dir, `${fetched.name}@${fetched.version}`, {
        config,
        cache,
        userconfigFile: path.join(scratch, 'npmrc'),
        timeoutMs: options.timeoutMs,
        allowScripts: options.allowScripts,
        signal,
      });
    }
    signal?.throwIfAborted();
    progress({ step: 'digest' });
    return { dir, source: fetched.source, scratch };
  } catch (e) {
    await rm(scratch, { recursive: true, force: true, maxRetries: 3 });
    throw e;
  }
}
