// plugin.json: its types, its validation (pure) and reading it from a bundle on disk.
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import stableStringify from 'fast-json-stable-stringify';
import type { Address } from '../docker/docker-protocol.mjs';
import { PlugdError } from '../errors.js';
import { NotPlainFile, readPlainFile } from './plain-file.js';

import type { RestartPolicyName } from '../../machines/types.js';
export type { RestartPolicyName };

export interface EnvVar {
  name: string;
  value: string;
  settable: boolean;
  description?: string;
}

export interface RestartSpec {
  policy: RestartPolicyName;
  /** on-failure only: restarts allowed before giving up (Docker's `on-failure:N`). */
  maxRetries?: number;
}

interface ManifestBase {
  name: string;
  version: string;
  description?: string;
  interface: { types: string[] };
  env: EnvVar[];
  args: string[];
  permissions: { env: string[] };
  restart: RestartSpec;
  requires: string[];
  /** "lazy": an enabled plugin starts on its first call, not when enabled. Absent means "eager". */
  activation?: 'eager' | 'lazy';
  /** Lazy plugins: stop an instance after this long without calls; the next call starts it again. */
  idleTimeoutMs?: number;
}

/** A JS module run in a worker thread of the host. */
export interface WorkerManifest extends ManifestBase {
  kind: 'worker';
  entrypoint: string;
  /**
   * Where the module runs: a thread of the host (trusted code), or a Node process of its own under
   * Node's permission model. Default: "thread".
   */
  isolation?: Isolation;
}

export type Isolation = 'thread' | 'process';
const ISOLATIONS: readonly Isolation[] = ['thread', 'process'];

/** Any executable serving Docker's plugin protocol on a UNIX socket that plugd names. */
export interface ProcessManifest extends ManifestBase {
  kind: 'process';
  /** The command: a path inside the bundle (`./bin/plugin`) or a command on PATH, then its arguments. */
  exec: string[];
  /** The working folder, inside the bundle. Default: the bundle's root. */
  workdir: string;
  interface: { types: string[]; socket: string };
  docker?: DockerSpec;
}

/** Where dockerd finds a plugin that plugd runs: its socket published in dockerPluginsDir. */
export interface DockerSpec {
  /** Expose the socket as `<dockerPluginsDir>/<name>.sock` while the plugin runs. */
  publish: boolean;
}

/**
 * A plugin run as a container of a Docker Engine (DOCKER_HOST honoured), serving Docker's plugin
 * protocol on a UNIX socket in a folder plugd bind-mounts: the calls are a process plugin's.
 */
export interface ContainerManifest extends ManifestBase {
  kind: 'container';
  /** An image the engine has (plugd does not pull). */
  image: string;
  /** The command, replacing the image's CMD. */
  cmd?: string[];
  /** `uid[:gid]` or a user name of the image. */
  user?: string;
  /** The container's root filesystem read-only. */
  readOnly?: boolean;
  /** Memory limit of the container, in MiB. */
  memoryMb?: number;
  /** Process limit of the container. */
  pids?: number;
  /** CPUs the container may use (1.5 = one and a half). */
  cpus?: number;
  /** Default "none": no network at all; "bridge": the engine's default bridge. */
  network: 'none' | 'bridge';
  interface: { types: string[]; socket: string };
  docker?: DockerSpec;
}

/** A plugin found by discovery and run by someone else; never written in a plugin.json. */
export interface ExternalManifest extends ManifestBase {
  kind: 'external';
  address: Address;
}

/** A validated plugin.json (or, for discovered plugins, what discovery learnt). */
export type Manifest = WorkerManifest | ProcessManifest | ContainerManifest | ExternalManifest;

export const NAME_PATTERN = /^(?:[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CAPABILITY = /^[A-Za-z][A-Za-z0-9._-]*$/;
const SOCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const POLICIES: readonly RestartPolicyName[] = ['no', 'always', 'on-failure', 'unless-stopped'];

/** The most of a plugin.json an error message quotes: this many characters of one value. */
const EXCERPT_CHARS = 40;
/** A plugin.json bigger than this is not a manifest. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

/**
 * A value from a manifest as an error message may show it: quoted, at most EXCERPT_CHARS
 * characters, anything but printable ASCII escaped (no terminal escapes, no bidi tricks).
 */
export function excerpt(value: unknown): string {
  const text = String(value);
  const cut = text.length > EXCERPT_CHARS ? text.slice(0, EXCERPT_CHARS) : text;
  const escaped = cut.replace(/[^\x20-\x7e]|["\\]/g, (c) =>
    c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `"${escaped}"${cut.length < text.length ? '...' : ''}`;
}

function fail(field: string, message: string, source?: string): never {
  const where = source ? ` in ${source}` : '';
  throw new PlugdError('PLUGD_E_MANIFEST', `"${field}"${where}: ${message}`, { details: { field } });
}

/** A required key that is absent is refused as missing, not as a value that breaks a rule. */
function required(obj: Record<string, unknown>, key: string, field: string, example: string, source?: string): void {
  if (obj[key] === undefined) fail(field, `is missing; it is required, e.g. ${example}`, source);
}

/** Refuses keys outside `allowed` and keys that could pollute a prototype. */
function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], at: string, source?: string): void {
  for (const key of Object.keys(obj)) {
    const shown = /^[\x20-\x7e]{1,40}$/.test(key) && !key.includes('"') ? key : excerpt(key);
    if (FORBIDDEN_KEYS.has(key)) fail(at ? `${at}.${shown}` : shown, 'forbidden key (prototype pollution)', source);
    if (!allowed.includes(key)) fail(at ? `${at}.${shown}` : shown, `unknown key; allowed: ${allowed.join(', ')}`, source);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, field: string, pattern: RegExp | undefined, source?: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(field, 'must be an array of strings', source);
  return v.map((item, i) => {
    if (typeof item !== 'string') fail(`${field}[${i}]`, 'must be a string', source);
    if (pattern && !pattern.test(item)) fail(`${field}[${i}]`, `${excerpt(item)} does not match ${pattern}`, source);
    return item;
  });
}

function parseRestart(v: unknown, source?: string): RestartSpec {
  if (v === undefined) return { policy: 'no' };
  if (typeof v === 'string') v = { policy: v };
  if (!isRecord(v)) fail('restart', 'must be an object like { "policy": "on-failure", "maxRetries": 5 }', source);
  checkKeys(v, ['policy', 'maxRetries'], 'restart', source);
  let policy = v.policy;
  let maxRetries = v.maxRetries;
  // Docker's spelling "on-failure:5" is accepted as well.
  if (typeof policy === 'string' && policy.startsWith('on-failure:')) {
    if (maxRetries !== undefined) fail('restart.maxRetries', 'given twice (also in "on-failure:N")', source);
    maxRetries = Number(policy.slice('on-failure:'.length));
    policy = 'on-failure';
  }
  if (typeof policy !== 'string' || !POLICIES.includes(policy as RestartPolicyName)) {
    fail('restart.policy', `must be one of ${POLICIES.join(', ')} (or "on-failure:N")`, source);
  }
  if (maxRetries !== undefined) {
    if (policy !== 'on-failure') fail('restart.maxRetries', 'only applies to the "on-failure" policy', source);
    if (typeof maxRetries !== 'number' || !Number.isInteger(maxRetries) || maxRetries < 0) {
      fail('restart.maxRetries', 'must be a whole number ≥ 0', source);
    }
  }
  return maxRetries === undefined ? { policy: policy as RestartPolicyName } : { policy: policy as RestartPolicyName, maxRetries };
}

function parseEnv(v: unknown, source?: string): EnvVar[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail('env', 'must be an array of { name, value, settable }', source);
  const seen = new Set<string>();
  return v.map((item, i) => {
    const at = `env[${i}]`;
    if (!isRecord(item)) fail(at, 'must be an object { name, value, settable }', source);
    checkKeys(item, ['name', 'value', 'settable', 'description'], at, source);
    if (typeof item.name !== 'string' || !ENV_NAME.test(item.name)) fail(`${at}.name`, 'must be an env variable name', source);
    if (seen.has(item.name)) fail(`${at}.name`, `${excerpt(item.name)} is declared twice`, source);
    seen.add(item.name);
    if (item.value !== undefined && typeof item.value !== 'string') fail(`${at}.value`, 'must be a string', source);
    if (item.settable !== undefined && typeof item.settable !== 'boolean') fail(`${at}.settable`, 'must be true or false', source);
    if (item.description !== undefined && typeof item.description !== 'string') fail(`${at}.description`, 'must be a string', source);
    const env: EnvVar = { name: item.name, value: item.value ?? '', settable: item.settable ?? false };
    if (item.description !== undefined) env.description = item.description;
    return env;
  });
}

/** Checks that a relative path stays inside its bundle (symlinks are checked on disk, in readBundleManifest). */
export function isInsideBundle(relative: string): boolean {
  if (relative === '' || path.isAbsolute(relative) || relative.includes('\0')) return false;
  const normal = path.posix.normalize(relative.replaceAll('\\', '/'));
  return normal !== '..' && !normal.startsWith('../') && !normal.startsWith('/');
}

/** `activation` and `idleTimeoutMs`, as given (each absent unless the manifest has it). */
function parseActivation(raw: Record<string, unknown>, source?: string): Pick<ManifestBase, 'activation' | 'idleTimeoutMs'> {
  const { activation, idleTimeoutMs } = raw;
  const out: Pick<ManifestBase, 'activation' | 'idleTimeoutMs'> = {};
  if (activation !== undefined) {
    if (activation !== 'eager' && activation !== 'lazy')
      fail('activation', 'must be "eager" (start when enabled) or "lazy" (start on the first call)', source);
    out.activation = activation;
  }
  if (idleTimeoutMs !== undefined) {
    if (typeof idleTimeoutMs !== 'number' || !Number.isInteger(idleTimeoutMs) || idleTimeoutMs < 1 || idleTimeoutMs > 2_147_483_647) {
      fail('idleTimeoutMs', 'must be a whole number of milliseconds ≥ 1', source);
    }
    if (activation !== 'lazy') fail('idleTimeoutMs', 'only applies to "activation": "lazy" plugins', source);
    out.idleTimeoutMs = idleTimeoutMs;
  }
  return out;
}

/**
 * Validates a parsed plugin.json and returns it with defaults filled in.
 * Throws PLUGD_E_MANIFEST naming the field.
 */
export function parseManifest(raw: unknown, source?: string): Manifest {
  if (!isRecord(raw)) fail('(root)', 'plugin.json must hold a JSON object', source);
  checkKeys(
    raw,
    [
      'name',
      'version',
      'description',
      'kind',
      'entrypoint',
      'exec',
      'workdir',
      'interface',
      'env',
      'args',
      'permissions',
      'restart',
      'requires',
      'isolation',
      'docker',
      'activation',
      'idleTimeoutMs',
      ...CONTAINER_KEYS,
    ],
    '',
    source,
  );
  required(raw, 'name', 'name', '"name": "hello"', source);
  required(raw, 'version', 'version', '"version": "1.0.0"', source);
  required(raw, 'kind', 'kind', '"kind": "worker"', source);
  required(raw, 'interface', 'interface', '"interface": { "types": ["Greeter"] }', source);
  const { name, version, description, kind } = raw;
  if (typeof name !== 'string' || name.length > 128 || !NAME_PATTERN.test(name)) {
    fail('name', 'must match [a-z0-9][a-z0-9._-]* (optionally scope/name), at most 128 characters', source);
  }
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/.test(version)) {
    fail('version', 'must be a semver version like "1.0.0"', source);
  }
  if (description !== undefined && typeof description !== 'string') fail('description', 'must be a string', source);
  if (kind !== 'worker' && kind !== 'process' && kind !== 'container') fail('kind', 'must be "worker", "process" or "container"', source);
  const iface = raw.interface;
  if (!isRecord(iface)) fail('interface', 'must be an object { "types": ["Capability"] }', source);
  checkKeys(iface, kind === 'worker' ? ['types'] : ['types', 'socket'], 'interface', source);
  required(iface, 'types', 'interface.types', '"types": ["Greeter"]', source);
  const types = stringList(iface.types, 'interface.types', CAPABILITY, source);
  if (types.length === 0) fail('interface.types', 'must name at least one capability', source);
  const permissions = raw.permissions ?? {};
  if (!isRecord(permissions)) fail('permissions', 'must be an object { "env": [...] }', source);
  checkKeys(permissions, ['env'], 'permissions', source);
  const requires = stringList(raw.requires, 'requires', NAME_PATTERN, source);
  if (requires.includes(name)) fail('requires', `"${name}" cannot require itself`, source);

  const base: ManifestBase = {
    name,
    version,
    interface: { types },
    env: parseEnv(raw.env, source),
    args: stringList(raw.args, 'args', undefined, source),
    permissions: { env: stringList(permissions.env, 'permissions.env', ENV_NAME, source) },
    restart: parseRestart(raw.restart, source),
    requires,
  };
  if (description !== undefined) base.description = description;
  // Stored only when given: a manifest without them keeps the id it had.
  Object.assign(base, parseActivation(raw, source));
  if (kind !== 'container') {
    const misplaced = CONTAINER_KEYS.find((key) => raw[key] !== undefined);
    if (misplaced) fail(misplaced, 'only applies to "container" plugins', source);
  }
  if (kind === 'worker') {
    if (raw.docker !== undefined) fail('docker', 'only applies to "process" and "container" plugins (a worker has no socket)', source);
    if (raw.exec !== undefined || raw.workdir !== undefined)
      fail(raw.exec !== undefined ? 'exec' : 'workdir', 'only applies to "process" plugins', source);
    required(raw, 'entrypoint', 'entrypoint', '"entrypoint": "index.mjs"', source);
    const { entrypoint } = raw;
    if (typeof entrypoint !== 'string' || !isInsideBundle(entrypoint)) {
      fail('entrypoint', 'must be a relative path inside the bundle (no "..", not absolute)', source);
    }
    // Kept only when given, so the IDs of manifests without it do not change.
    if (raw.isolation === undefined) return { ...base, kind, entrypoint };
    if (!ISOLATIONS.includes(raw.isolation as Isolation)) fail('isolation', `must be one of ${ISOLATIONS.join(', ')}`, source);
    return { ...base, kind, entrypoint, isolation: raw.isolation as Isolation };
  }
  const socket = iface.socket ?? 'plugin.sock';
  if (typeof socket !== 'string' || !SOCKET_NAME.test(socket))
    fail('interface.socket', 'must be a file name such as "plugin.sock" (no folders)', source);
  const docker = parseDocker(raw.docker, source);
  if (kind === 'container') {
    for (const key of ['entrypoint', 'exec', 'workdir', 'isolation'] as const) {
      if (raw[key] !== undefined) fail(key, 'does not apply to "container" plugins; the image and "cmd" say what runs', source);
    }
    return { ...base, ...parseContainer(raw, source), kind, interface: { types, socket }, ...(docker ? { docker } : {}) };
  }
  if (raw.isolation !== undefined) fail('isolation', 'only applies to "worker" plugins; a process plugin is a process already', source);
  if (raw.entrypoint !== undefined) fail('entrypoint', 'only applies to "worker" plugins; a process plugin has "exec"', source);
  required(raw, 'exec', 'exec', '"exec": ["node", "server.mjs"]', source);
  const exec = stringList(raw.exec, 'exec', undefined, source);
  const command = exec[0];
  if (command === undefined || command === '') fail('exec', 'must name the command to run, e.g. ["./bin/plugin", "--flag"]', source);
  if (command.includes('/') && !isInsideBundle(command))
    fail('exec[0]', 'must be a path inside the bundle (no "..", not absolute) or a command name on PATH', source);
  const workdir = raw.workdir ?? '.';
  if (typeof workdir !== 'string' || (workdir !== '.' && !isInsideBundle(workdir)))
    fail('workdir', 'must be a relative folder inside the bundle', source);
  return { ...base, kind, exec, workdir, interface: { types, socket }, ...(docker ? { docker } : {}) };
}

/** `"docker": { "publish": true }`; absent stays absent, so the IDs of other plugins do not change. */
function parseDocker(v: unknown, source?: string): DockerSpec | undefined {
  if (v === undefined) return undefined;
  if (!isRecord(v)) fail('docker', 'must be an object like { "publish": true }', source);
  checkKeys(v, ['publish'], 'docker', source);
  if (typeof v.publish !== 'boolean') fail('docker.publish', 'must be true or false', source);
  return { publish: v.publish };
}

const CONTAINER_KEYS = ['image', 'cmd', 'user', 'readOnly', 'memoryMb', 'pids', 'cpus', 'network'] as const;
/** An image reference: [registry[:port]/]path[:tag][@digest], or an image ID. */
const IMAGE = /^[a-z0-9][a-z0-9._/:@-]{0,254}$/i;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$/;

type ContainerFields = Omit<ContainerManifest, keyof ManifestBase | 'kind' | 'docker'>;

function parseContainer(raw: Record<string, unknown>, source?: string): ContainerFields {
  const { image, user, readOnly, memoryMb, pids, cpus, network = 'none' } = raw;
  if (typeof image !== 'string' || !IMAGE.test(image))
    fail('image', 'must name an image the engine has, e.g. "local/plugd-volumes" or "registry:5000/team/plugin:1.2"', source);
  const fields: ContainerFields = { image, network: 'none' };
  if (network !== 'none' && network !== 'bridge') fail('network', 'must be "none" (the default) or "bridge"', source);
  fields.network = network;
  if (raw.cmd !== undefined) {
    const cmd = stringList(raw.cmd, 'cmd', undefined, source);
    if (cmd.length === 0 || cmd[0] === '')
      fail('cmd', 'must name the command to run in the container, e.g. ["node", "/plugin/server.mjs"]', source);
    fields.cmd = cmd;
  }
  if (user !== undefined) {
    if (typeof user !== 'string' || !USER.test(user)) fail('user', 'must be "uid", "uid:gid" or a user name of the image', source);
    fields.user = user;
  }
  if (readOnly !== undefined) {
    if (typeof readOnly !== 'boolean') fail('readOnly', 'must be true or false', source);
    fields.readOnly = readOnly;
  }
  if (memoryMb !== undefined) {
    // Docker refuses less than 6 MiB.
    if (typeof memoryMb !== 'number' || !Number.isInteger(memoryMb) || memoryMb < 6)
      fail('memoryMb', 'must be a whole number of MiB, at least 6', source);
    fields.memoryMb = memoryMb;
  }
  if (pids !== undefined) {
    if (typeof pids !== 'number' || !Number.isInteger(pids) || pids < 1) fail('pids', 'must be a whole number ≥ 1', source);
    fields.pids = pids;
  }
  if (cpus !== undefined) {
    if (typeof cpus !== 'number' || !Number.isFinite(cpus) || cpus <= 0 || cpus > 1024)
      fail('cpus', 'must be a number of CPUs above 0, e.g. 0.5', source);
    fields.cpus = cpus;
  }
  return fields;
}

/**
 * What is wrong with text that is not JSON, without V8's quote of it: the kind of error, where,
 * and a short excerpt around that place.
 */
function jsonProblem(error: Error, text: string): string {
  const position = /at position (\d+)/.exec(error.message);
  const kind = error.message
    .replace(/,? ".*$/s, '') // V8 quotes the start of the text: "Unexpected token 'r', "root:x:0:0"... is not valid JSON"
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 80);
  if (!position) return kind;
  const at = Number(position[1]);
  const before = text.slice(0, at).split('\n');
  const near = excerpt(text.slice(Math.max(0, at - 12), at + 12));
  return `${kind} at line ${before.length}, column ${before.at(-1)!.length + 1}, near ${near}`;
}

/** Parses plugin.json text; a JSON syntax error is a PLUGD_E_MANIFEST too. */
export function parseManifestText(text: string, source?: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // No `cause`: V8's message quotes the text as it is.
    throw new PlugdError('PLUGD_E_MANIFEST', `${source ?? 'plugin.json'} is not valid JSON: ${jsonProblem(e as Error, text)}`, {
      details: { field: '(root)' },
    });
  }
  return parseManifest(raw, source);
}

/**
 * Reads and validates a plugin.json that must be a plain file of its own folder: a symlink (even
 * to a file of the same bundle), a FIFO, a device or a file over 1 MiB is refused before a byte
 * of it is read.
 */
export async function readManifestFile(file: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readPlainFile(file, MAX_MANIFEST_BYTES);
  } catch (e) {
    throw new PlugdError('PLUGD_E_MANIFEST', (e as Error).message, { cause: e, details: { field: '(file)' } });
  }
  return parseManifestText(text, file);
}

/**
 * Reads and validates `<bundleDir>/plugin.json`, and checks on disk that the entrypoint
 * exists and does not leave the bundle through a symlink.
 */
export async function readBundleManifest(bundleDir: string): Promise<Manifest> {
  const source = path.join(bundleDir, 'plugin.json');
  const manifest = await readManifestFile(source).catch((e: unknown) => {
    const missing = e instanceof PlugdError && e.cause instanceof NotPlainFile && e.cause.reason === 'does not exist';
    throw missing
      ? new PlugdError('PLUGD_E_MANIFEST', `bundle ${bundleDir} has no plugin.json at its root`, { details: { field: '(file)' } })
      : e;
  });
  if (manifest.kind === 'worker') {
    await checkBundleFile(bundleDir, manifest.entrypoint, 'entrypoint', source);
  } else if (manifest.kind === 'process' && manifest.exec[0]!.includes('/')) {
    await checkBundleFile(bundleDir, manifest.exec[0]!, 'exec[0]', source);
  }
  return manifest;
}

/** A file named by the manifest must exist in the bundle and not leave it through a symlink. */
async function checkBundleFile(bundleDir: string, relative: string, field: string, source: string): Promise<void> {
  const realBundle = await realpath(bundleDir);
  let real: string;
  try {
    real = await realpath(path.join(bundleDir, relative));
    if (!(await stat(real)).isFile()) throw new Error('not a file');
  } catch {
    fail(field, `${excerpt(relative)} is not a file in the bundle`, source);
  }
  if (!real.startsWith(realBundle + path.sep)) {
    fail(field, `${excerpt(relative)} leaves the bundle through a symlink`, source);
  }
}

/** The plugin ID: sha256 of the stable JSON of the manifest and the bundle's content digest. */
export function pluginId(manifest: Manifest, bundleDigest: string): string {
  return createHash('sha256')
    .update(stableStringify({ manifest, bundle: bundleDigest }))
    .digest('hex');
}
