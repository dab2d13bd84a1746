// The on-disk store under `root`: the index, one record per plugin, its settings and bundle.
// The index (plugins.json) is the commit point of an install or a removal. A record folder in
// the middle of one is marked in progress (in-progress.ts): on open, the index decides whether a
// marked folder stays or is swept. Record folders describe themselves (manifest + settings), so
// an unmarked one the index does not name (a lost or overwritten index) is recovered, not swept.
import { cp, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { isAtomicTemp, syncDir, syncTree, writeJsonAtomic } from './atomic-file.js';
import { PlugdError } from '../errors.js';
import { clearInProgress, IN_PROGRESS_MARKER, markInProgress, readInProgress } from './in-progress.js';
import { readManifestFile, type Manifest } from './manifest.js';
import { NotPlainFile, readPlainFile } from './plain-file.js';
import { findPlugin, resolvePlugin, type Registry } from './plugin-lookup.js';
import { isLeftByDeadAttempt, LOCK_FILE, StoreLock } from './store-lock.js';
import { readSource, writeSource, type PluginSource } from './registry/plugin-source.js';

export { IN_PROGRESS_MARKER };

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
  /** Where a plugin from the npm registry came from (`source.json`); absent otherwise. */
  source?: PluginSource;
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
/** Folders of run/ named after a plugin: its sockets, while an instance runs. */
const RUN_DIR_PATTERN = /^[0-9a-f]{12}$/;
/** An index bigger than this is not one plugd wrote (a million plugins would not fill it). */
const MAX_INDEX_BYTES = 256 * 1024 * 1024;
/** A settings.json bigger than this is not one plugd wrote. */
const MAX_SETTINGS_BYTES = 1024 * 1024;

/** What the index told: the IDs it names, or null if it is missing or corrupt. */
interface IndexRead {
  ids: Set<string> | null;
  lost: 'missing' | 'corrupt' | null;
}

/**
 * Files written atomically at the top of a root, by whoever holds its lock: the index, and the URL
 * and generated token of a daemon on TCP. A temp file of one of them is a crash's debris on open.
 */
const ROOT_ATOMIC_FILES = ['plugins.json', 'control.url', 'control.token'];

/**
 * The URL a daemon on TCP advertises to the CLI. Whoever held the root before this lock is gone:
 * a URL left by one that was killed names a dead port (or someone else's), so it goes; a daemon
 * that listens writes its own once the store is open.
 */
const CONTROL_URL_FILE = 'control.url';

export class Store {
  readonly root: string;
  readonly #records = new Map<string, PluginRecord>();
  readonly #names = new Map<string, PluginRecord>();
  #lock: StoreLock | null = null;

  private constructor(root: string) {
    this.root = root;
  }

  get indexFile(): string {
    return path.join(this.root, 'plugins.json');
  }
  get pluginsDir(): string {
    return path.join(this.root, 'plugins');
  }
  get logsDir(): string {
    return path.join(this.root, 'logs');
  }
  get runDir(): string {
    return path.join(this.root, 'run');
  }
  recordDir(id: string): string {
    return path.join(this.pluginsDir, id);
  }
  /** Where a process plugin's socket lives while it runs (mode 0700). */
  pluginRunDir(id: string): string {
    return path.join(this.runDir, id.slice(0, 12));
  }

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
    // Locked before the load: it sweeps what a crash left, and nobody else may be writing.
    store.#lock = await StoreLock.acquire(store.root);
    try {
      const problems = await store.#load();
      await store.#sweep();
      return { store, problems };
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

  /** A plugin by name, full ID, or an unambiguous ID prefix of 12+ characters (see plugin-lookup.ts). */
  find(nameOrId: string): PluginRecord | undefined {
    return findPlugin(this.#registry, nameOrId);
  }

  /** Like find(), or PLUGD_E_NOT_FOUND naming what is installed (or an ambiguous prefix's candidates). */
  resolve(nameOrId: string): PluginRecord {
    return resolvePlugin(this.#registry, nameOrId);
  }

  readonly #registry: Registry<PluginRecord> = {
    list: () => this.#records.values(),
    keys: (r) => ({ name: r.manifest.name, id: r.id }),
    exact: (nameOrId) => this.#names.get(nameOrId) ?? this.#records.get(nameOrId),
  };

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

  /**
   * Loads the records: those the index names, then complete record folders it does not name
   * (recovered, and the index rewritten). Marked folders go the way the index says; with no
   * index to say, an unfinished install is swept and anything else kept.
   */
  async #load(): Promise<StoreProblem[]> {
    const problems: StoreProblem[] = [];
    const index = await this.#readIndex(problems);
    const unindexed: string[] = [];
    for (const name of (await readdir(this.pluginsDir)).sort()) {
      const dir = path.join(this.pluginsDir, name);
      if (name.startsWith(INCOMING_PREFIX)) {
        await rm(dir, { recursive: true, force: true }); // a record being built when the host died
        continue;
      }
      if (!ID_PATTERN.test(name)) continue;
      const indexed = index.ids?.has(name) ?? false;
      const change = await readInProgress(dir);
      if (change !== null) {
        const keep = index.ids !== null ? indexed : change !== 'install';
        if (!keep) {
          await this.#removeFiles(name);
          continue;
        }
        await clearInProgress(dir);
      }
      if (!indexed) unindexed.push(name);
    }
    for (const id of index.ids ?? []) {
      try {
        this.#remember(await this.#readRecord(id));
      } catch (e) {
        problems.push({ id, file: this.recordDir(id), error: asStoreError(e, `record ${id}`) });
      }
    }
    let recovered = 0;
    for (const id of unindexed) {
      const dir = this.recordDir(id);
      let record: PluginRecord;
      try {
        record = await this.#readRecord(id);
      } catch (e) {
        const why = e instanceof PlugdError ? e.message.replace(/^PLUGD_E_\w+: /, '') : (e as Error).message;
        problems.push({
          id,
          file: dir,
          error: new PlugdError('PLUGD_E_STORE', `${dir} is not in the index and is not a complete record (left in place): ${why}`, {
            cause: e,
          }),
        });
        continue;
      }
      const holder = this.#names.get(record.manifest.name);
      if (holder) {
        problems.push({
          id,
          file: dir,
          error: new PlugdError(
            'PLUGD_E_STORE',
            `${dir} holds plugin "${record.manifest.name}", which the index gives to ${holder.id.slice(0, 12)}; left in place, not loaded`,
          ),
        });
        continue;
      }
      this.#remember(record);
      recovered += 1;
      if (index.ids !== null) {
        problems.push({
          id,
          file: dir,
          error: new PlugdError(
            'PLUGD_E_STORE',
            `${this.indexFile} did not name the complete record of "${record.manifest.name}" in ${dir}; recovered it from its folder`,
          ),
        });
      }
    }
    if (index.lost === 'missing' && recovered > 0) {
      problems.push({
        file: this.indexFile,
        error: new PlugdError('PLUGD_E_STORE', `${this.indexFile} is missing; rebuilt it from ${recovered} record folder(s)`),
      });
    }
    if (recovered > 0 || index.lost === 'corrupt') await this.#writeIndex();
    return problems;
  }

  /**
   * Removes what a crash or a finished plugin left: temp files of atomic writes (of the index, of
   * settings, of a daemon's control files), the control.url of a daemon that held the root before,
   * temp files of lock attempts that died, and run folders (no plugin runs yet).
   */
  async #sweep(): Promise<void> {
    for (const name of await readdir(this.root)) {
      const file = path.join(this.root, name);
      if (name === CONTROL_URL_FILE || ROOT_ATOMIC_FILES.some((written) => isAtomicTemp(name, written))) await rm(file, { force: true });
      else if (isAtomicTemp(name, LOCK_FILE) && (await isLeftByDeadAttempt(file))) await rm(file, { force: true });
    }
    for (const record of this.#records.values()) {
      const dir = this.recordDir(record.id);
      for (const name of await readdir(dir)) {
        if (isAtomicTemp(name)) await rm(path.join(dir, name), { force: true });
      }
    }
    for (const name of await readdir(this.runDir)) {
      if (RUN_DIR_PATTERN.test(name)) await rm(path.join(this.runDir, name), { recursive: true, force: true });
    }
  }

  async #readIndex(problems: StoreProblem[]): Promise<IndexRead> {
    let text: string;
    try {
      text = await readPlainFile(this.indexFile, MAX_INDEX_BYTES);
    } catch (e) {
      if (!(e instanceof NotPlainFile))
        throw new PlugdError('PLUGD_E_STORE', `cannot read ${this.indexFile}: ${(e as Error).message}`, { cause: e });
      if (e.reason === 'does not exist') return { ids: null, lost: 'missing' };
      // A link, a FIFO, a folder in its place: as good as corrupt.
      problems.push({
        file: this.indexFile,
        error: new PlugdError('PLUGD_E_STORE', `${e.message}; rebuilt the index from the record folders`),
      });
      await rm(this.indexFile, { recursive: true, force: true });
      return { ids: null, lost: 'corrupt' };
    }
    try {
      const parsed = JSON.parse(text) as IndexFile;
      if (parsed.version !== 1 || !Array.isArray(parsed.plugins)) throw new Error('unexpected shape');
      return {
        ids: new Set(parsed.plugins.map((p) => p?.id).filter((id): id is string => typeof id === 'string' && ID_PATTERN.test(id))),
        lost: null,
      };
    } catch (e) {
      // A disk fault or a stray write: the record folders say what is installed.
      const reason = e instanceof SyntaxError ? 'not valid JSON' : (e as Error).message;
      problems.push({
        file: this.indexFile,
        error: new PlugdError('PLUGD_E_STORE', `${this.indexFile} is corrupt (${reason}); rebuilt it from the record folders`),
      });
      return { ids: null, lost: 'corrupt' };
    }
  }

  async #readRecord(id: string): Promise<PluginRecord> {
    const dir = this.recordDir(id);
    const manifest = await readManifestFile(path.join(dir, 'plugin.json'));
    const settingsFile = path.join(dir, 'settings.json');
    let text: string;
    try {
      text = await readPlainFile(settingsFile, MAX_SETTINGS_BYTES);
    } catch (e) {
      throw new PlugdError('PLUGD_E_STORE', (e as Error).message, { cause: e });
    }
    const settings = parseSettings(text, settingsFile);
    const source = await readSource(dir);
    return { id, manifest, settings, bundleDir: path.join(dir, 'bundle'), ...(source ? { source } : {}) };
  }

  async #writeIndex(): Promise<void> {
    const index: IndexFile = {
      version: 1,
      plugins: this.list()
        .map((r) => ({ id: r.id, name: r.manifest.name }))
        .sort((a, b) => a.name.localeCompare(b.name)),
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
  async add(
    id: string,
    manifest: Manifest,
    sourceDir: string,
    settings: PluginSettings,
    replaces?: string,
    source?: PluginSource,
  ): Promise<PluginRecord> {
    const incoming = await mkdtemp(path.join(this.pluginsDir, INCOMING_PREFIX));
    const finalDir = this.recordDir(id);
    const old = replaces === undefined ? undefined : this.#records.get(replaces);
    try {
      await markInProgress(incoming, 'install');
      await cp(sourceDir, path.join(incoming, 'bundle'), { recursive: true, verbatimSymlinks: true });
      await syncTree(path.join(incoming, 'bundle'));
      await writeJsonAtomic(path.join(incoming, 'plugin.json'), manifest);
      await writeJsonAtomic(path.join(incoming, 'settings.json'), settings);
      if (source) await writeSource(incoming, source);
      await syncDir(incoming);
      await rename(incoming, finalDir);
      await syncDir(this.pluginsDir);
      if (old) await markInProgress(this.recordDir(old.id), 'remove');
      const record: PluginRecord = { id, manifest, settings, bundleDir: path.join(finalDir, 'bundle'), ...(source ? { source } : {}) };
      if (old) this.#forget(old);
      this.#remember(record);
      try {
        await this.#writeIndex();
      } catch (e) {
        this.#forget(record);
        if (old) this.#remember(old);
        throw e;
      }
      // Committed. What follows is tidying; the next open finishes it if the host dies first.
      await clearInProgress(finalDir).catch(() => undefined);
      if (old) await this.#removeFiles(old.id).catch(() => undefined);
      return record;
    } catch (e) {
      await rm(incoming, { recursive: true, force: true });
      if (!this.#records.has(id)) await rm(finalDir, { recursive: true, force: true });
      if (old && this.#records.get(old.id) === old) await clearInProgress(this.recordDir(old.id)).catch(() => undefined);
      throw new PlugdError('PLUGD_E_STORE', `cannot install ${manifest.name} into ${this.root}: ${(e as Error).message}`, { cause: e });
    }
  }

  async writeSettings(id: string, settings: PluginSettings): Promise<PluginRecord> {
    const record = this.#records.get(id);
    if (!record) throw new PlugdError('PLUGD_E_NOT_FOUND', `no record ${id} in the store`);
    await writeJsonAtomic(path.join(this.recordDir(id), 'settings.json'), settings);
    record.settings = settings;
    return record;
  }

  /** Marks the folder, drops the index entry (the commit point), then removes the folder. */
  async remove(id: string): Promise<void> {
    const record = this.#records.get(id);
    if (!record) return;
    this.#forget(record);
    try {
      await markInProgress(this.recordDir(id), 'remove');
      await this.#writeIndex();
    } catch (e) {
      this.#remember(record);
      await clearInProgress(this.recordDir(id)).catch(() => undefined);
      throw new PlugdError('PLUGD_E_STORE', `cannot remove ${record.manifest.name}: ${(e as Error).message}`, { cause: e });
    }
    await this.#removeFiles(id);
  }

  /** A record's folder, logs and run folder, once the index no longer names it. */
  async #removeFiles(id: string): Promise<void> {
    // Out of the way in one rename first: a recursive rm may delete the in-progress marker before
    // plugin.json, and a host killed in between would leave an unmarked, complete-looking record
    // that the next open recovers. A temp name is swept on open instead.
    const doomed = path.join(this.pluginsDir, `${INCOMING_PREFIX}removed-${id}`);
    await rename(this.recordDir(id), doomed).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await rm(doomed, { recursive: true, force: true });
    await rm(this.pluginRunDir(id), { recursive: true, force: true });
    await rm(path.join(this.logsDir, `${id}.log`), { force: true });
    await rm(path.join(this.logsDir, `${id}.log.1`), { force: true });
  }
}

function asStoreError(e: unknown, what: string): PlugdError {
  return e instanceof PlugdError ? e : new PlugdError('PLUGD_E_STORE', `${what}: ${(e as Error).message}`, { cause: e });
}

function parseSettings(text: string, file: string): PluginSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new PlugdError('PLUGD_E_STORE', `${file} is not valid JSON`); // no cause: V8's message quotes the text
  }
  const s = raw as Partial<PluginSettings>;
  const isStrings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (typeof s !== 'object' || s === null || typeof s.enabled !== 'boolean' || !isStrings(s.env) || !isStrings(s.grantedEnv)) {
    throw new PlugdError('PLUGD_E_STORE', `${file} does not hold { enabled, env, grantedEnv }`);
  }
  return { enabled: s.enabled, env: s.env!, grantedEnv: s.grantedEnv! };
}
