// The environment a plugin's worker sees: only what its manifest declares, what the user set,
// and the host variables it was granted. Nothing else of the host's process.env leaks in.
import { PlugdError } from '../errors.js';
import type { Manifest } from '../store/manifest.js';
import type { PluginRecord } from '../store/store.js';

export function pluginEnv(record: PluginRecord, hostEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  // Env names may be `__proto__` or `constructor`: no prototype to write into or read from.
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const v of record.manifest.env) env[v.name] = v.value;
  for (const name of record.settings.grantedEnv) {
    const value = Object.hasOwn(hostEnv, name) ? hostEnv[name] : undefined;
    if (value !== undefined) env[name] = value;
  }
  for (const pair of record.settings.env) {
    const eq = pair.indexOf('=');
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** Validates `KEY=VALUE` settings against the manifest and merges them over the current ones. */
export function mergeEnvSettings(manifest: Manifest, current: string[], changes: string[]): string[] {
  const merged = new Map(current.map((pair) => [pair.slice(0, pair.indexOf('=')), pair]));
  for (const pair of changes) {
    const eq = typeof pair === 'string' ? pair.indexOf('=') : -1;
    if (eq <= 0) {
      throw new PlugdError('PLUGD_E_SETTING', `setting ${JSON.stringify(pair)} of plugin "${manifest.name}" must look like KEY=VALUE`);
    }
    const key = pair.slice(0, eq);
    const declared = manifest.env.find((v) => v.name === key);
    if (!declared) {
      throw new PlugdError(
        'PLUGD_E_SETTING',
        `plugin "${manifest.name}" declares no env variable "${key}"; declared: ${manifest.env.map((v) => v.name).join(', ') || '(none)'}`,
      );
    }
    if (!declared.settable) {
      throw new PlugdError(
        'PLUGD_E_SETTING',
        `env variable "${key}" of plugin "${manifest.name}" is not settable (its manifest says "settable": false)`,
      );
    }
    merged.set(key, pair);
  }
  return [...merged.values()];
}
