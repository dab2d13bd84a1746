// The on-disk store under `root`: the index, one record per plugin, its settings and bundle.
// The index (plugins.json) is the commit point of an install or a removal: a record folder
// that the index does not name is an unfinished install and is swept on open.
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { syncDir, syncTree, writeJsonAtomic } from './atomic-file.js';
import { PlugdError } from '../errors.js';
import { readManifestFile, type Manifest } from './manifest.js';
import { StoreLock } from './store-lock.js';

/** What the user set about a plugin; kept in `plugins/<id>/settings.json`. */
export interface PluginSettings {
  enabled: boolean;
  /** `KEY=VALUE` overrides of settable env variables. */
  env: string[];
  /** Host env variable names the user granted (a subset of manifest.permissions.env). */
  grantedEnv: string[];
}

export interface PluginRecord {
  id: string;
  manifest: Manifest;
  settings: PluginSettings;
  /** Absolute path of the installed copy of the bundle. */
  bundleDir: string;
}

/** A record that could not be loaded: reported, skipped, never fatal. */
export interface StoreProblem {
  id?: string;
  file: string;
  error: PlugdError;
}

interface IndexFile {
  version: 1;
  plugins: { id: string; name: string }[];
}

const INCOMING_PREFIX = '.incoming-';
const ID_PATTERN = /^[0-9a-f]{64}$/;

export class Store {
  readonly root: string;
  readonly #records = new Map<string, PluginRecord>();
  readonly #names = new Map<string, PluginRecord>();
  #lock: StoreLock | null = null;

  private constructor(root: string) {
    this.root = root;
  }

  get indexFile(): string { return path.join(this.root, 'plugins.json'); }
  get pluginsDir(): string { return path.join(this.root, 'plugins'); }
  get logsDir(): string { return path.join(this.root, 'logs'); }
  get runDir(): string { return path.join(this.root, 'run'); }
  recordDir(id: string): string { return path.join(this.pluginsDir, id); }

  /**
   * Opens (or creates) the store and locks it for this supervisor (PLUGD_E_STORE_LOCKED if a live
   * one holds it); records that cannot be loaded come back as problems.
   */
  static async open(root: string): Promise<{ store: Store; problems: StoreProblem[] }> {
    const store = new Store(path.resolve(root));
    try {
      for (const dir of [store.root, store.pluginsDir, store.logsDir, store.runDir]) {
        await mkdir(dir, { recursive: true, mode: 0o700 });
      }
    } catch (e) {
      throw new PlugdError('PLUGD_E_STORE', `cannot create the store at ${store.root}: ${(e as Error).message}`, { cause: e });
    }
    // Locked before the load: the load sweeps what looks like an unfinished install.
    store.#lock = await StoreLock.acquire(store.root);
    try {
      return { store, problems: await store.#load() };
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  /** Releases the lock; the store stays as it is on disk. */
  async close(): Promise<void> {
    const lock = this.#lock;
    this.#lock = null;
    await lock?.release();
  }

  list(): PluginRecord[] {
    return [...this.#records.values()];
  }

  get(id: string): PluginRecord | undefined {
    return this.#records.get(id);
  }

  byName(name: string): PluginRecord | undefined {
    return this.#names.get(name);
  }

  /** A plugin by name, full ID, or an unambiguous ID prefix of 12+ characters (as Docker does). */
  find(nameOrId: string): PluginRecord | undefined {
    const found = this.#names.get(nameOrId) ?? this.#records.get(nameOrId);
    if (found || nameOrId.length < 12) return found;
    const prefixed = this.list().filter((r) => r.id.startsWith(nameOrId));
    return prefixed.length === 1 ? prefixed[0] : undefined;
  }

  /** Like find(), or PLUGD_E_NOT_FOUND naming what is installed. */
  resolve(nameOrId: string): PluginRecord {
    if (typeof nameOrId !== 'string' || nameOrId === '') {
      throw new PlugdError('PLUGD_E_OPTION', 'a plugin name or ID is required', { details: { option: 'name' } });
    }
    const found = this.find(nameOrId);
    if (found) return found;
    throw new PlugdError('PLUGD_E_NOT_FOUND', `no installed plugin is named "${nameOrId}"; installed: ${this.list().map((r) => r.manifest.name).join(', ') || '(none)'}`);
  }

  /** Records a discovered plugin: in memory only, it is rediscovered rather than restored. */
  addExternal(record: PluginRecord): void {
    this.#remember(record);
  }

  /** Each plugin's `requires`, by name. */
  requiresMap(): Map<string, string[]> {
    return new Map(this.list().map((r) => [r.manifest.name, r.manifest.requires]));
  }

  #remember(record: PluginRecord): void {
    this.#records.set(record.id, record);
    this.#names.set(record.manifest.name, record);
  }

  #forget(record: PluginRecord): void {
    this.#records.delete(record.id);
    this.#names.delete(record.manifest.name);
  }

  async #load(): Promise<StoreProblem[]> {
    const problems: StoreProblem[] = [];
    const index = await this.#readIndex(problems);
    const indexed = new Set(index.map((entry) => entry.id));
    for (const { id } of index) {
      try {
        this.#remember(await this.#readRecord(id));
      } catch (e) {
        const error = e instanceof PlugdError ? e : new PlugdError('PLUGD_E_STORE', `record ${id}: ${(e as Error).message}`, { cause: e });
        problems.push({ id, file: this.recordDir(id), error });
      }
    }
    // Unfinished installs (no index entry) and temp folders left by a crash are swept.
    for (const name of await readdir(this.pluginsDir)) {
      if (name.startsWith(INCOMING_PREFIX) || (ID_PATTERN.test(name) && !indexed.has(name))) {
        await rm(path.join(this.pluginsDir, name), { recursive: true, force: true });
      }
    }
    return problems;
  }

  async #readIndex(problems: StoreProblem[]): Promise<{ id: string }[]> {
    let text: string;
    try {
      text = await readFile(this.indexFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new PlugdError('PLUGD_E_STORE', `cannot read ${this.indexFile}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const parsed = JSON.parse(text) as IndexFile;
      if (parsed.version !== 1 || !Array.isArray(parsed.plugins)) throw new Error('unexpected shape');
      return parsed.plugins.filter((p) => typeof p?.id === 'string' && ID_PATTERN.test(p.id));
    } catch (e) {
      // Only a damaged disk gets here (the index is replaced by rename): fall back to the folders.
      problems.push({ file: this.indexFile, error: new PlugdError('PLUGD_E_STORE', `${this.indexFile} is corrupt (${(e as Error).message}); loading the record folders instead`, { cause: e }) });
      const names = await readdir(this.pluginsDir);
      return names.filter((n) => ID_PATTERN.test(n)).map((id) => ({ id }));
    }
  }

  async #readRecord(id: string): Promise<PluginRecord> {
    const dir = this.recordDir(id);
    const manifest = await readManifestFile(path.join(dir, 'plugin.json'));
    const settingsFile = path.join(dir, 'settings.json');
    const settings = parseSettings(await readFile(settingsFile, 'utf8'), settingsFile);
    return { id, manifest, settings, bundleDir: path.join(dir, 'bundle') };
  }

  async #writeIndex(): Promise<void> {
    const index: IndexFile = {
      version: 1,
      plugins: this.list().filter((r) => r.manifest.kind !== 'external').map((r) => ({ id: r.id, name: r.manifest.name })).sort((a, b) => a.name.localeCompare(b.name)),
    };
    await writeJsonAtomic(this.indexFile, index);
  }

  /** An empty folder for unpacking an archive; swept on the next open if the host dies first. */
  scratchDir(): Promise<string> {
    return mkdtemp(path.join(this.pluginsDir, `${INCOMING_PREFIX}unpack-`));
  }

  /**
   * Copies a bundle in and records it. The record folder is built under a temp name and
   * renamed into place; the index write that follows is the commit point. With `replaces`, the
   * same index write also drops that record (an upgrade): a crash leaves one or the other.
   */
  async add(id: string, manifest: Manifest, sourceDir: string, settings: PluginSettings, replaces?: string): Promise<PluginRecord> {
    const incoming = await mkdtemp(path.join(this.pluginsDir, INCOMING_PREFIX));
    const finalDir = this.recordDir(id);
    const old = replaces === undefined ? undefined : this.#records.get(replaces);
    try {
      await cp(sourceDir, path.join(incoming, 'bundle'), { recursive: true, verbatimSymlinks: true });
      await syncTree(path.join(incoming, 'bundle'));
      await writeJsonAtomic(path.join(incoming, 'plugin.json'), manifest);
      await writeJsonAtomic(path.join(incoming, 'settings.json'), settings);
      await syncDir(incoming);
      await rename(incoming, finalDir);
      await syncDir(this.pluginsDir);
      const record: PluginRecord = { id, manifest, settings, bundleDir: path.join(finalDir, 'bundle') };
      if (old) this.#forget(old);
      this.#remember(record);
      try {
        await this.#writeIndex();
      } catch (e) {
        this.#forget(record);
        if (old) this.#remember(old);
        throw e;
      }
      if (old) await this.#removeFiles(old.id);
      return record;
    } catch (e) {
      await rm(incoming, { recursive: true, force: true });
      if (!this.#records.has(id)) await rm(finalDir, { recursive: true, force: true });
      throw new PlugdError('PLUGD_E_STORE', `cannot install ${manifest.name} into ${this.root}: ${(e as Error).message}`, { cause: e });
    }
  }

  async writeSettings(id: string, settings: PluginSettings): Promise<PluginRecord> {
    const record = this.#records.get(id);
    if (!record) throw new PlugdError('PLUGD_E_NOT_FOUND', `no record ${id} in the store`);
    if (record.manifest.kind !== 'external') await writeJsonAtomic(path.join(this.recordDir(id), 'settings.json'), settings);
    record.settings = settings;
    return record;
  }

  /** Drops the index entry first (the commit point), then the folder. */
  async remove(id: string): Promise<void> {
    const record = this.#records.get(id);
    if (!record) return;
    this.#forget(record);
    if (record.manifest.kind === 'external') return;
    try {
      await this.#writeIndex();
    } catch (e) {
      this.#remember(record);
      throw new PlugdError('PLUGD_E_STORE', `cannot remove ${record.manifest.name}: ${(e as Error).message}`, { cause: e });
    }
    await this.#removeFiles(id);
  }

  /** A record's folder and logs, once the index no longer names it. */
  async #removeFiles(id: string): Promise<void> {
    await rm(this.recordDir(id), { recursive: true, force: true });
    await rm(path.join(this.logsDir, `${id}.log`), { force: true });
    await rm(path.join(this.logsDir, `${id}.log.1`), { force: true });
  }
}

function parseSettings(text: string, file: string): PluginSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new PlugdError('PLUGD_E_STORE', `${file} is not valid JSON`, { cause: e });
  }
  const s = raw as Partial<PluginSettings>;
  const isStrings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (typeof s !== 'object' || s === null || typeof s.enabled !== 'boolean' || !isStrings(s.env) || !isStrings(s.grantedEnv)) {
    throw new PlugdError('PLUGD_E_STORE', `${file} does not hold { enabled, env, grantedEnv }`);
  }
  return { enabled: s.enabled, env: s.env!, grantedEnv: s.grantedEnv! };
}
