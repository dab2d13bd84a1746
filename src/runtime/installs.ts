// Install, upgrade and remove as the runtime runs them: a bundle prepared off the main thread, checked
// against every plugin known, written to the store one write at a time, then given its entry and
// its actor. An upgrade holds the plugin's entry from its call until the new record is in place.
import type { Logger } from 'pino';
import { PlugdError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import {
  carrySettings,
  checkInstallable,
  checkPermissions,
  prepareFrom,
  type InstallContext,
  type PreparedBundle,
} from '../store/installer.js';
import type { SettingsWriter } from '../store/settings-writer.js';
import type { Store } from '../store/store.js';
import type { TaskPool } from '../tasks/task-pool.js';
import type { ProgressListener } from '../store/registry/install-progress.js';
import type { PluginActors } from './plugin-actors.js';
import type { PluginEntries } from './plugin-entries.js';
import type { PluginEntry } from './plugin-entry.js';

/** Options of install() and upgrade(). */
export interface InstallOptions {
  /** Grant the host env variables the plugin asks to read (its permissions.env). */
  grantPermissions?: boolean;
  /** `npm:` specs only: let install scripts of the package and its dependencies run. Default false. */
  allowScripts?: boolean;
  /** `npm:` specs only: called at each step (resolve, download with bytes, verify, unpack, dependencies, digest). */
  onProgress?: ProgressListener;
  /**
   * Cancels the install or upgrade (as fetch's `signal`): it rejects with PLUGD_E_ABORTED, the
   * signal's reason as its cause. A registry download or dependency npm ends at once, an unpack is
   * let finish; the scratch folder is removed and nothing is recorded (an upgrade keeps the
   * installed version). An already aborted signal rejects before anything is touched. Once the
   * store write has begun, an abort no longer applies: the install completes.
   */
  signal?: AbortSignal;
}

type Work = 'install' | 'upgrade';

/** The error an install cancelled through its signal rejects with. */
function abortedBy(signal: AbortSignal, what: Work): PlugdError {
  return new PlugdError('PLUGD_E_ABORTED', `the ${what} was cancelled through its signal; nothing was recorded`, { cause: signal.reason });
}

/** Refuses a `signal` option that is not an AbortSignal, and one already aborted. */
function checkSignal(signal: unknown, what: Work): void {
  if (signal === undefined) return;
  if (!(signal instanceof AbortSignal)) {
    throw new PlugdError('PLUGD_E_OPTION', 'the signal option must be an AbortSignal', { details: { option: 'signal' } });
  }
  if (signal.aborted) throw abortedBy(signal, what);
}

/** The signal an install's steps watch: close()'s and the caller's, each aborting with its own error. */
interface StepSignal {
  signal: AbortSignal;
  /** Stops listening to the caller's signal. */
  release(): void;
}

/** What installs need from the supervisor. */
export interface InstallHost {
  options: ResolvedOptions;
  store: Store;
  entries: PluginEntries;
  actors: PluginActors;
  settings: SettingsWriter;
  tasks: TaskPool;
  log: Logger;
  /** Throws PLUGD_E_CLOSED once the supervisor is closing. */
  assertOpen(): void;
  /** Gives a record that left the store its entry and actor. */
  admit(entry: PluginEntry): void;
  /** Forgets what the runtime kept of a record that left the store. */
  retire(entry: PluginEntry): void;
}

export class Installs {
  readonly #host: InstallHost;
  #storeQueue: Promise<unknown> = Promise.resolve();
  /** Installs and upgrades under way, each until its scratch folder is gone. */
  readonly #underWay = new Set<Promise<unknown>>();
  /** Aborted by close(): a registry download or dependency npm ends at once, other steps after they finish. */
  readonly #closing = new AbortController();

  constructor(host: InstallHost) {
    this.#host = host;
  }

  /** See Supervisor.install. */
  install(bundleDir: string, options: InstallOptions = {}): Promise<{ id: string; name: string }> {
    try {
      checkSignal(options.signal, 'install');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#track('install', bundleDir, options, (signal) => this.#install(bundleDir, options, signal));
  }

  async #install(bundleDir: string, options: InstallOptions, signal: AbortSignal): Promise<{ id: string; name: string }> {
    const host = this.#host;
    const bundle = await prepareFrom(bundleDir, this.#installContext(options, signal));
    try {
      const { manifest, id } = bundle;
      const grantedEnv = checkPermissions(manifest, options.grantPermissions === true);
      return await this.exclusive(async () => {
        host.assertOpen();
        checkInstallable(host.entries, manifest, id);
        signal.throwIfAborted(); // the last point an abort applies: the store write begins
        const record = await host.store.add(id, manifest, bundle.dir, { enabled: false, env: [], grantedEnv }, undefined, bundle.source);
        host.admit(host.entries.add(record, 'installed'));
        host.log.info({ plugin: manifest.name, id }, `installed ${manifest.name}@${manifest.version}`);
        return { id, name: manifest.name };
      });
    } finally {
      await bundle.dispose();
    }
  }

  /** See Supervisor.upgrade. */
  upgrade(
    entry: PluginEntry,
    bundlePath: string | undefined,
    options: InstallOptions = {},
  ): Promise<{ id: string; name: string; previous: string }> {
    try {
      checkSignal(options.signal, 'upgrade');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#track('upgrade', `${entry.name} to ${bundlePath ?? entry.record.source?.spec ?? '?'}`, options, (signal) =>
      this.#upgrade(entry, bundlePath, options, signal),
    );
  }

  async #upgrade(
    entry: PluginEntry,
    bundlePath: string | undefined,
    options: InstallOptions,
    signal: AbortSignal,
  ): Promise<{ id: string; name: string; previous: string }> {
    const name = entry.name;
    const from = bundlePath ?? entry.record.source?.spec;
    if (from === undefined) {
      throw new PlugdError('PLUGD_E_OPTION', `plugin "${name}" was not installed from the npm registry; upgrade() needs a bundle for it`, {
        details: { option: 'bundlePath' },
      });
    }
    return entry.exclusive('upgraded', async () => {
      signal.throwIfAborted();
      const bundle = await prepareFrom(from, this.#installContext(options, signal));
      try {
        if (bundle.manifest.name !== name) {
          throw new PlugdError('PLUGD_E_MANIFEST', `the bundle holds plugin "${bundle.manifest.name}", not "${name}"`, {
            details: { field: 'name' },
          });
        }
        return await this.exclusive(() => this.#replace(entry, bundle, options.grantPermissions === true, signal));
      } finally {
        await bundle.dispose();
      }
    });
  }

  async #replace(
    entry: PluginEntry,
    bundle: PreparedBundle,
    granted: boolean,
    signal: AbortSignal,
  ): Promise<{ id: string; name: string; previous: string }> {
    const host = this.#host;
    host.assertOpen();
    const { name, record: old } = entry;
    if (old.id === bundle.id) return { id: old.id, name, previous: old.id };
    if (!host.actors.hasTag(name, 'atRest'))
      throw new PlugdError('PLUGD_E_STATE', `plugin "${name}" is ${host.actors.stateOf(name)}; disable it before upgrading`);
    if (entry.origin !== 'installed')
      throw new PlugdError('PLUGD_E_STATE', `plugin "${name}" was discovered, not installed; its process is not plugd's to upgrade`);
    entry.assertFree(false);
    checkInstallable(host.entries, bundle.manifest, bundle.id, old);
    const { settings, dropped } = carrySettings(old, bundle.manifest, granted);
    await host.settings.settle(entry);
    signal.throwIfAborted(); // the last point an abort applies: the store write begins
    const record = await host.store.add(bundle.id, bundle.manifest, bundle.dir, settings, old.id, bundle.source);
    await host.actors.remove(name);
    host.retire(entry);
    host.admit(host.entries.add(record, 'installed'));
    host.log.info(
      { plugin: name, id: record.id, previous: old.id, droppedSettings: dropped },
      `upgraded ${name} from ${old.manifest.version} to ${bundle.manifest.version}`,
    );
    return { id: record.id, name, previous: old.id };
  }

  #installContext(options: InstallOptions, signal: AbortSignal): InstallContext {
    const host = this.#host;
    return {
      tasks: host.tasks,
      scratchDir: () => host.store.scratchDir(),
      maxEntries: host.options.maxBundleEntries,
      registryTimeoutMs: host.options.registryTimeoutMs,
      allowScripts: options.allowScripts,
      onProgress: options.onProgress,
      signal,
    };
  }

  /** Removes a plugin at rest: its actor, then its record (an installed one's, from the store). */
  async remove(entry: PluginEntry): Promise<void> {
    const host = this.#host;
    const { name, record } = entry;
    await host.actors.remove(name);
    await host.settings.settle(entry);
    if (entry.origin === 'installed') await this.exclusive(() => host.store.remove(record.id));
    host.retire(entry);
    host.log.info({ plugin: name, id: record.id }, `removed ${name}`);
  }

  /**
   * Ends what is under way: a registry download is cut off and a dependency npm killed, other steps
   * (an unpack on the task pool) are let finish; each removes its scratch folder, and queued store
   * writes land. Once it resolves, nothing of theirs changes the store.
   */
  async close(): Promise<void> {
    this.#closing.abort(new PlugdError('PLUGD_E_CLOSED', 'the supervisor closed while the plugin was being installed'));
    while (this.#underWay.size > 0) await Promise.all(this.#underWay);
    await this.settle();
  }

  /** The signal one install watches: aborted by close() (PLUGD_E_CLOSED) or by `options.signal` (PLUGD_E_ABORTED). */
  #stepSignal(caller: AbortSignal | undefined, what: Work): StepSignal {
    if (caller === undefined) return { signal: this.#closing.signal, release: () => {} };
    const cancelled = new AbortController();
    const onAbort = (): void => cancelled.abort(abortedBy(caller, what));
    caller.addEventListener('abort', onAbort, { once: true });
    return {
      signal: AbortSignal.any([this.#closing.signal, cancelled.signal]),
      release: () => caller.removeEventListener('abort', onAbort),
    };
  }

  /** Runs one install or upgrade of `subject`, known to close() until it ends; a cancel is logged. */
  #track<T>(what: Work, subject: string, options: InstallOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const step = this.#stepSignal(options.signal, what);
    const run = work(step.signal).catch((e: unknown) => {
      if (e instanceof PlugdError && e.code === 'PLUGD_E_ABORTED')
        this.#host.log.info({ [what]: subject }, `${what} of ${subject} cancelled`);
      throw e;
    });
    const forget = (): void => {
      step.release();
      this.#underWay.delete(ended);
    };
    const ended: Promise<void> = run.then(forget, forget);
    this.#underWay.add(ended);
    return run;
  }

  /** Waits for the store writes queued so far (installs, upgrades, removes), whatever their outcome. */
  async settle(): Promise<void> {
    for (let queue = this.#storeQueue; ; queue = this.#storeQueue) {
      await queue;
      if (queue === this.#storeQueue) return;
    }
  }

  /** Serialises writes to the store, so two installs cannot both take one name. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#storeQueue.then(work, work);
    this.#storeQueue = run.catch(() => undefined);
    return run;
  }
}
