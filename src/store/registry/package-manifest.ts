// A registry package's plugin manifest: plugin.json at the package root, or the "plugd" field of
// its package.json (written out as plugin.json, so the installed bundle reads like any other).
import { lstat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PlugdError } from '../../errors.js';
import { readPlainFile } from '../plain-file.js';

/** A package.json bigger than this is not one to install. */
const MAX_PACKAGE_JSON_BYTES = 1024 * 1024;

export interface PackageFacts {
  /** Names of the dependencies the package declares (installed into the bundle). */
  dependencies: string[];
}

/** `@scope/name` becomes `scope/name`: plugin names may hold one slash but no `@`. */
export function pluginNameOf(packageName: string): string {
  return packageName.startsWith('@') ? packageName.slice(1) : packageName;
}

/**
 * Makes sure `dir` (an unpacked package) holds a plugin.json; PLUGD_E_MANIFEST when it has
 * neither one nor a "plugd" object in package.json.
 */
export async function ensurePluginManifest(dir: string, spec: string): Promise<PackageFacts> {
  const pkg = await readPackageJson(dir, spec);
  const dependencies = isObject(pkg.dependencies) ? Object.keys(pkg.dependencies) : [];
  // Whatever is there (even a link) is plugin.json's to answer for: readBundleManifest checks it.
  if (
    await lstat(path.join(dir, 'plugin.json')).then(
      () => true,
      () => false,
    )
  )
    return { dependencies };
  if (!isObject(pkg.plugd)) {
    throw new PlugdError(
      'PLUGD_E_MANIFEST',
      `package ${spec} holds no plugin: add a plugin.json at its root or a "plugd" object to its package.json`,
      { details: { field: '(file)' } },
    );
  }
  const manifest = {
    name: typeof pkg.name === 'string' ? pluginNameOf(pkg.name) : undefined,
    version: pkg.version,
    ...(typeof pkg.description === 'string' ? { description: pkg.description } : {}),
    ...pkg.plugd,
  };
  await writeFile(path.join(dir, 'plugin.json'), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
  return { dependencies };
}

async function readPackageJson(dir: string, spec: string): Promise<Record<string, unknown>> {
  const file = path.join(dir, 'package.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readPlainFile(file, MAX_PACKAGE_JSON_BYTES));
  } catch (e) {
    throw new PlugdError('PLUGD_E_MANIFEST', `package ${spec} has no readable package.json: ${(e as Error).message.split('\n')[0]}`, {
      details: { field: '(file)' },
    });
  }
  if (!isObject(parsed))
    throw new PlugdError('PLUGD_E_MANIFEST', `package ${spec}'s package.json is not an object`, { details: { field: '(file)' } });
  return parsed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
