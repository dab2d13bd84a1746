// Finds plugins run by someone else, as Docker's legacy discovery does: `<name>.sock` in the
// sockets folder, `<name>.spec` (a URL) and `<name>.json` ({ Name, Addr, TLSConfig }) in the
// spec folders (TLSConfig honoured), each also allowed one folder down (`<name>/<name>.sock`);
// and Docker's managed plugins, `<plugin id>/<socket>` in the sockets folder, named through the
// Engine API. The first definition of a name wins, sockets first.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import stableStringify from 'fast-json-stable-stringify';
import { parseAddress, type Address, type TlsOptions } from './docker-protocol.mjs';
import { PlugdError } from '../errors.js';
import { NAME_PATTERN } from '../store/manifest.js';
import { managedPluginNames, managedSockets } from './managed-plugins.js';
import type { PluginRecord } from '../store/store.js';

export interface DiscoveredPlugin {
  name: string;
  address: Address;
  /** The file that defined it. */
  file: string;
}

export interface DiscoveryProblem {
  file: string;
  error: PlugdError;
}

/** `<dir>/<name>.<ext>` and `<dir>/<name>/<name>.<ext>` for the extensions asked. */
async function candidates(dir: string, extensions: string[]): Promise<{ name: string; ext: string; file: string }[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: { name: string; ext: string; file: string }[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const ext = path.extname(entry.name);
    if (!entry.isDirectory() && extensions.includes(ext)) {
      found.push({ name: entry.name.slice(0, -ext.length), ext, file: path.join(dir, entry.name) });
    } else if (entry.isDirectory()) {
      for (const e of extensions) {
        const file = path.join(dir, entry.name, `${entry.name}${e}`);
        if (
          await stat(file).then(
            () => true,
            () => false,
          )
        )
          found.push({ name: entry.name, ext: e, file });
      }
    }
  }
  return found;
}

async function addressOf(ext: string, file: string): Promise<{ name?: string; address: Address }> {
  if (ext === '.sock') return { address: { socketPath: file } };
  const text = (await readFile(file, 'utf8')).trim();
  if (ext === '.spec') return { address: parseAddress(text) };
  let spec: { Name?: unknown; Addr?: unknown; TLSConfig?: unknown };
  try {
    spec = JSON.parse(text);
  } catch (e) {
    throw new PlugdError('PLUGD_E_MANIFEST', `${file} is not valid JSON`, { cause: e });
  }
  if (typeof spec.Addr !== 'string')
    throw new PlugdError('PLUGD_E_MANIFEST', `${file}: "Addr" must be a URL such as unix:///run/p.sock or tcp://host:port`);
  const address = parseAddress(spec.Addr);
  const name = typeof spec.Name === 'string' ? spec.Name : undefined;
  if (spec.TLSConfig === undefined || spec.TLSConfig === null) return { name, address };
  if ('socketPath' in address)
    throw new PlugdError('PLUGD_E_MANIFEST', `${file}: "TLSConfig" applies to tcp:// or https:// addresses, not to a UNIX socket`);
  return { name, address: { ...address, tls: await tlsOptions(spec.TLSConfig, file) } };
}

/** Docker's TLSConfig: the files are read now, their contents go with the address. */
async function tlsOptions(config: unknown, file: string): Promise<TlsOptions> {
  if (typeof config !== 'object' || config === null) throw new PlugdError('PLUGD_E_MANIFEST', `${file}: "TLSConfig" must be an object`);
  const c = config as Record<string, unknown>;
  const read = async (field: string): Promise<string | undefined> => {
    const value = c[field];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw new PlugdError('PLUGD_E_MANIFEST', `${file}: "TLSConfig.${field}" must be a file path`);
    try {
      return await readFile(path.resolve(path.dirname(file), value), 'utf8');
    } catch (e) {
      throw new PlugdError('PLUGD_E_MANIFEST', `${file}: cannot read TLSConfig.${field} ${value}: ${(e as Error).message}`, { cause: e });
    }
  };
  const tls: TlsOptions = { rejectUnauthorized: c.InsecureSkipVerify !== true };
  const [ca, cert, key] = await Promise.all([read('CAFile'), read('CertFile'), read('KeyFile')]);
  if (ca !== undefined) tls.ca = ca;
  if (cert !== undefined) tls.cert = cert;
  if (key !== undefined) tls.key = key;
  return tls;
}

/** Where dockerd looks, used when discover() is given no folder at all. */
export const DOCKER_DEFAULTS = { socketsDir: '/run/docker/plugins', specsDirs: ['/etc/docker/plugins', '/usr/lib/docker/plugins'] };

/** Managed plugins' sockets as candidates named by the engine, or by their plugin ID. */
async function managedCandidates(dir: string): Promise<{ name: string; ext: string; file: string }[]> {
  const sockets = await managedSockets(dir);
  if (sockets.length === 0) return [];
  const names = await managedPluginNames();
  return sockets.map(({ id, file }) => ({ name: names.get(id) ?? id, ext: '.sock', file }));
}

export async function discoverPlugins(options: {
  socketsDir?: string;
  specsDirs?: string[];
}): Promise<{ plugins: DiscoveredPlugin[]; problems: DiscoveryProblem[] }> {
  if (options.socketsDir === undefined && options.specsDirs === undefined) options = DOCKER_DEFAULTS;
  const plugins: DiscoveredPlugin[] = [];
  const problems: DiscoveryProblem[] = [];
  const found = [
    ...(options.socketsDir ? await candidates(options.socketsDir, ['.sock']) : []),
    ...(options.socketsDir ? await managedCandidates(options.socketsDir) : []),
    ...(await Promise.all((options.specsDirs ?? []).map((dir) => candidates(dir, ['.spec', '.json'])))).flat(),
  ];
  for (const { name: fileName, ext, file } of found) {
    try {
      const { name = fileName, address } = await addressOf(ext, file);
      if (!NAME_PATTERN.test(name)) throw new PlugdError('PLUGD_E_MANIFEST', `${file}: "${name}" is not a plugin name`);
      if (plugins.some((p) => p.name === name)) continue; // the first definition wins
      plugins.push({ name, address, file });
    } catch (e) {
      const error = e instanceof PlugdError ? e : new PlugdError('PLUGD_E_MANIFEST', `${file}: ${(e as Error).message}`, { cause: e });
      problems.push({ file, error });
    }
  }
  return { plugins, problems };
}

/**
 * The in-memory record of a discovered plugin: kind `external`, enabled, no restart (its process
 * is not plugd's); its ID is the digest of its name and address.
 */
export function externalRecord(plugin: DiscoveredPlugin): PluginRecord {
  const id = createHash('sha256')
    .update(stableStringify({ external: plugin.name, address: plugin.address }))
    .digest('hex');
  return {
    id,
    bundleDir: '',
    settings: { enabled: true, env: [], grantedEnv: [] },
    manifest: {
      kind: 'external',
      name: plugin.name,
      version: '0.0.0',
      address: plugin.address,
      description: `discovered at ${plugin.file}`,
      interface: { types: [] },
      env: [],
      args: [],
      permissions: { env: [] },
      restart: { policy: 'no' },
      requires: [],
    },
  };
}

/** What adopting discovered plugins needs from the supervisor. */
export interface DiscoveryHost {
  /** Records and supervises a plugin not yet known by that name; false if the name is taken. */
  adopt(record: PluginRecord): boolean;
  enable(name: string): Promise<void>;
}

/**
 * Puts newly discovered plugins under supervision and activates them; a plugin whose handshake
 * fails joins the problems, next to the definitions that could not be read.
 */
export async function adoptDiscovered(
  found: { plugins: DiscoveredPlugin[]; problems: DiscoveryProblem[] },
  host: DiscoveryHost,
): Promise<{ activated: string[]; problems: DiscoveryProblem[] }> {
  const added = found.plugins.filter((plugin) => host.adopt(externalRecord(plugin)));
  const outcomes = await Promise.allSettled(added.map((p) => host.enable(p.name)));
  const activated: string[] = [];
  const problems = [...found.problems];
  outcomes.forEach((outcome, i) => {
    const plugin = added[i]!;
    if (outcome.status === 'fulfilled') activated.push(plugin.name);
    else
      problems.push({
        file: plugin.file,
        error: outcome.reason instanceof PlugdError ? outcome.reason : new PlugdError('PLUGD_E_ACTIVATION', String(outcome.reason)),
      });
  });
  return { activated, problems };
}
