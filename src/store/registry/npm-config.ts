// The npm configuration a registry install honours, layered as npm layers it: the user's .npmrc,
// then the project's .npmrc, then npm_config_* environment variables (the last one wins).
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'ini';

/** Flat npm settings with npm's own keys (`registry`, `@scope:registry`, `//host/:_authToken`...). */
export type NpmConfig = Record<string, string>;

export interface NpmConfigSources {
  /** Where the project's .npmrc is looked for (npm's local prefix). Default: process.cwd(). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

/** Reads and layers the .npmrc files and environment as npm does; missing files count as empty. */
export async function loadNpmConfig(sources: NpmConfigSources = {}): Promise<NpmConfig> {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const fromEnv = envConfig(env);
  const userFile = fromEnv.userconfig ?? path.join(sources.home ?? os.homedir(), '.npmrc');
  const projectFile = path.join(await localPrefix(cwd), '.npmrc');
  const user = await readNpmrc(userFile, env);
  const project = projectFile === path.resolve(userFile) ? {} : await readNpmrc(projectFile, env);
  delete project.userconfig; // npm ignores it there, as a project may not redirect the user's file
  return { registry: DEFAULT_REGISTRY, ...user, ...project, ...fromEnv };
}

/** The registry that serves `name`: its scope's registry if one is set, else `registry`. */
export function registryFor(config: NpmConfig, name: string): string {
  const scope = name.startsWith('@') ? name.slice(0, name.indexOf('/')) : null;
  return (scope && config[`${scope}:registry`]) || config.registry || DEFAULT_REGISTRY;
}

/** npm_config_foo_bar=x becomes foo-bar=x; `//host/:_authToken`-style keys keep their case. */
function envConfig(env: NodeJS.ProcessEnv): NpmConfig {
  const config: NpmConfig = {};
  for (const [key, value] of Object.entries(env)) {
    if (!/^npm_config_/i.test(key) || value === undefined || value === '') continue;
    let name = key.slice('npm_config_'.length);
    if (!name.startsWith('//')) name = name.replace(/(?!^)_/g, '-').toLowerCase();
    config[name] = value;
  }
  return config;
}

/** npm's local prefix: the nearest folder up from `cwd` holding package.json or node_modules. */
async function localPrefix(cwd: string): Promise<string> {
  const start = path.resolve(cwd);
  for (let dir = start; ; dir = path.dirname(dir)) {
    for (const marker of ['package.json', 'node_modules']) {
      if (
        await stat(path.join(dir, marker)).then(
          () => true,
          () => false,
        )
      )
        return dir;
    }
    if (path.dirname(dir) === dir) return start;
  }
}

async function readNpmrc(file: string, env: NodeJS.ProcessEnv): Promise<NpmConfig> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const config: NpmConfig = {};
  for (const [key, value] of Object.entries(parse(text))) {
    if (typeof value === 'object' && value !== null) continue; // ini sections: npm has none
    config[expand(key, env)] = expand(String(value), env);
  }
  return config;
}

/** `${NPM_TOKEN}` in a .npmrc takes the environment's value, as npm does. */
function expand(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/(?<!\\)\$\{([^${}]+)\}/g, (_, name: string) => env[name.replace(/\?$/, '')] ?? '');
}
