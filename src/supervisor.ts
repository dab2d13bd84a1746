// The facade a host holds: it validates, writes the store, and hands work to the supervisor
// actor (plugin-system.ts), the instances (worker, process, external) and the log pump.
import path from 'node:path';
import type { Logger } from 'pino';
import { withDependencies } from '../machines/dependency-graph.js';
import { PluginClient, type ClientBackend } from './client.js';
import { PlugdError } from './errors.js';
import { ActivationHandlers, type ActivationHandler } from './runtime/activation-handlers.js';
import { adoptDiscovered, discoverPlugins, type DiscoveryProblem } from './docker/discovery.js';
import { carrySettings, checkInstallable, checkPermissions, prepareFrom, type InstallContext, type PreparedBundle } from './store/installer.js';
import type { ProgressListener } from './store/registry/install-progress.js';
import { Instances } from './isolation/instances.js';
import { LogPump } from './logs/log-pump.js';
import type { LogLine } from './logs/pump-protocol.js';
import { resolveOptions, type ResolvedOptions, type SupervisorOptions } from './options.js';
import { mergeEnvSettings } from './isolation/plugin-env.js';
import { describePlugin, type PluginInfo } from './runtime/plugin-info.js';
import { PluginActors } from './runtime/plugin-actors.js';
import { PluginLocks } from './runtime/plugin-locks.js';
import { restore, toRestore, type RestoreReport } from './runtime/restore.js';
import { References } from './runtime/references.js';
import { SettingsWriter } from './store/settings-writer.js';
import type { StateEvent } from './runtime/state-event.js';
import { Store, type PluginRecord, type StoreProblem } from './store/store.js';
import { TaskPool } from './tasks/task-pool.js';
import { ControlServer } from './control/control-server.js';
import { startInspector, type Inspector } from './inspector/index.js';
import { EventHistory } from './control/event-history.js';
import { PluginMetrics } from './control/metrics.js';
import { instanceUsage } from './control/plugin-usage.js';

export type Capability = string;

/** Options of install() and upgrade(). */
export interface InstallOptions {
  /** Grant the host env variables the plugin asks to read (its permissions.env). */
  grantPermissions?: boolean;
  /** `npm:` specs only: let install scripts of the package and its dependencies run. Default false. */
  allowScripts?: boolean;
  /** `npm:` specs only: called at each step (resolve, download with bytes, verify, unpack, dependencies, digest). */
  onProgress?: ProgressListener;
}
export type { ActivationHandler, RestoreReport, StateEvent };

/**
 * A plugin supervisor: create one per host with {@link createSupervisor}.
 *
 * @example
 * const sup = await createSupervisor({ root: '.plugd' });
 * await sup.install('./examples/bundles/hello');
 * await sup.enable('hello');
 * await (await sup.get('hello', 'Greeter')).call('Greeter.Hello', { name: 'Ada' });
 * await sup.close();
 */
export class Supervisor {
  /** Records the store could not load at open: reported and skipped. */
  readonly problems: readonly StoreProblem[];
  readonly #options: ResolvedOptions;
  readonly #log: Logger;
  readonly #store: Store;
  readonly #tasks = new TaskPool();
  readonly #pump: LogPump;
  readonly #instances: Instances;
  readonly #actors: PluginActors;
  readonly #refs = new References();
  readonly #handlers: ActivationHandlers;
  readonly #clientBackend: ClientBackend;
  #storeQueue: Promise<unknown> = Promise.resolve();
  readonly #settings: SettingsWriter;
  #closed: Promise<void> | null = null;
  #restoring: Promise<RestoreReport> = Promise.resolve({ running: [], failed: [] });
  readonly #locks = new PluginLocks();
  readonly #metrics: PluginMetrics;
  #control: ControlServer | null = null;
  #inspector: Inspector | null = null;

  private constructor(options: ResolvedOptions, store: Store, problems: StoreProblem[]) {
    this.#options = options;
    this.#store = store;
    this.#settings = new SettingsWriter(store);
    this.problems = problems;
    this.#log = options.logger.child({ component: 'plugd' });
    this.#pump = new LogPump({
      logsDir: store.logsDir,
      keepLines: options.logs.keepLines,
      maxFileBytes: options.logs.maxFileBytes,
      processSocket: path.join(store.runDir, 'logs.sock'),
      ratePerSec: options.logs.ratePerSec,
      burst: options.logs.burst,
    });
    this.#instances = new Instances(options, store, this.#pump, this.#tasks, this.#log);
    this.#handlers = new ActivationHandlers(this.#log);
    this.#metrics = new PluginMetrics({ list: () => this.list(), usageOf: (name) => instanceUsage(this.#instances.current(name)) });
    this.#clientBackend = {
      calls: this.#metrics.calls,
      // A stopping plugin takes no new call: its instance is ending.
      instanceOf: (name) => (this.#actors.hasTag(name, 'running') ? this.#instances.current(name) : undefined),
      callTimeoutMs: options.callTimeoutMs,
      release: (name) => this.#refs.release(name),
    };
    this.#actors = new PluginActors(this.#instances, options, this.#log, (event, context) => {
      if (event.to !== 'running') return;
      this.#handlers.activated(event.name, context?.implements ?? [], (capability) => new PluginClient(this.#clientBackend, event.name, capability, false));
    });
    this.#actors.on(this.#metrics.onState);
    for (const problem of problems) this.#log.error({ file: problem.file, code: problem.error.code }, problem.error.message);
  }

  /** @internal use createSupervisor() */
  static async open(options: SupervisorOptions): Promise<Supervisor> {
    const resolved = resolveOptions(options);
    const { store, problems } = await Store.open(resolved.root);
    let sup: Supervisor;
    try {
      sup = new Supervisor(resolved, store, problems);
    } catch (e) {
      await store.close();
      throw e;
    }
    for (const record of store.list()) sup.#actors.add(record);
    if (resolved.control) await sup.#serve(resolved.control);
    // Started, not awaited: one plugin's slow or failing activation never holds the host's start.
    if (resolved.restore) sup.#restoring = restore(toRestore(store.list()), (id) => sup.enable(id), sup.#log, () => sup.#closed !== null);
    return sup;
  }

  // ── install, enable, disable, remove, set ────────────────────────────────────────────────

  /**
   * Copies a bundle into the store: a folder, an archive of one (.tgz, .tar; `npm pack`
   * output), or a package from the npm registry (`npm:name@range`, checked against its
   * integrity, its dependencies installed). The plugin starts `installed`; enable it to run it.
   */
  async install(bundleDir: string, options: InstallOptions = {}): Promise<{ id: string; name: string }> {
    this.#assertOpen();
    const bundle = await prepareFrom(bundleDir, this.#installContext(options));
    try {
      const { manifest, id } = bundle;
      const grantedEnv = checkPermissions(manifest, options.grantPermissions === true);
      return await this.#exclusive(async () => {
        this.#assertOpen();
        checkInstallable(this.#store, manifest, id);
        const record = await this.#store.add(id, manifest, bundle.dir, { enabled: false, env: [], grantedEnv }, undefined, bundle.source);
        this.#actors.add(record);
        this.#log.info({ plugin: manifest.name, id }, `installed ${manifest.name}@${manifest.version}`);
        return { id, name: manifest.name };
      });
    } finally {
      await bundle.dispose();
    }
  }

  /**
   * Replaces a plugin with another version of it (Docker's `plugin upgrade`): the bundle must
   * carry the same name, and the plugin must be at rest (disable it first) and not in use. Env
   * settings the new version still declares settable carry over; host variables it newly asks
   * for need `grantPermissions`. One index write swaps the records. The plugin stays disabled.
   * Without `bundlePath`, a plugin installed from the npm registry moves to the newest version
   * its original spec allows; `npm:name@2` moves it to another range.
   */
  async upgrade(nameOrId: string, bundlePath?: string, options: InstallOptions = {}): Promise<{ id: string; name: string; previous: string }> {
    this.#assertOpen();
    const current = this.#claim(nameOrId);
    const name = current.manifest.name;
    const from = bundlePath ?? current.source?.spec;
    if (from === undefined) {
      throw new PlugdError('PLUGD_E_OPTION', `plugin "${name}" was not installed from the npm registry; upgrade() needs a bundle for it`, { details: { option: 'bundlePath' } });
    }
    return this.#locks.exclusive(name, 'upgraded', async () => {
      const bundle = await prepareFrom(from, this.#installContext(options));
      try {
        if (bundle.manifest.name !== name) {
          throw new PlugdError('PLUGD_E_MANIFEST', `the bundle holds plugin "${bundle.manifest.name}", not "${name}"`, { details: { field: 'name' } });
        }
        return await this.#exclusive(() => this.#replace(name, bundle, options.grantPermissions === true));
      } finally {
        await bundle.dispose();
      }
    });
  }

  async #replace(name: string, bundle: PreparedBundle, granted: boolean): Promise<{ id: string; name: string; previous: string }> {
    this.#assertOpen();
    const old = this.#store.resolve(name);
    if (old.id === bundle.id) return { id: old.id, name, previous: old.id };
    if (!this.#actors.hasTag(name, 'atRest')) throw new PlugdError('PLUGD_E_STATE', `plugin "${name}" is ${this.#actors.stateOf(name)}; disable it before upgrading`);
    this.#refs.assertFree(name, false);
    checkInstallable(this.#store, bundle.manifest, bundle.id, old);
    const { settings, dropped } = carrySettings(old, bundle.manifest, granted);
    await this.#settings.settle(old.id);
    const record = await this.#store.add(bundle.id, bundle.manifest, bundle.dir, settings, old.id, bundle.source);
    await this.#actors.remove(name);
    this.#retire(old.id, name);
    this.#actors.add(record);
    this.#log.info({ plugin: name, id: record.id, previous: old.id, droppedSettings: dropped }, `upgraded ${name} from ${old.manifest.version} to ${bundle.manifest.version}`);
    return { id: record.id, name, previous: old.id };
  }

  /**
   * Finds plugins run by someone else (Docker's legacy discovery: `<name>.sock` in `socketsDir`,
   * `<name>.spec` and `<name>.json` in `specsDirs`), activates them with the same handshake and
   * registers their capabilities. They get the health watchdog but no restart: their process is
   * not plugd's. They live in memory only; a host start discovers them again.
   */
  async discover(options: { socketsDir?: string; specsDirs?: string[] } = {}): Promise<{ activated: string[]; problems: DiscoveryProblem[] }> {
    this.#assertOpen();
    return adoptDiscovered(await discoverPlugins(options), {
      adopt: (record) => {
        if (this.#store.byName(record.manifest.name)) return false; // installed, or discovered before
        this.#store.addExternal(record);
        this.#actors.add(record);
        return true;
      },
      enable: (name) => this.enable(name),
    });
  }

  /**
   * Enables a plugin (and the plugins it requires) and resolves once it runs: at once if it runs
   * already. An activating or restarting plugin is waited for (its next attempt, after its
   * backoff); a stopping one finishes its stop, then runs again. Rejects with the activation's
   * error if it fails (the restart policy then decides what follows), with PLUGD_E_DEPENDENCY if
   * a plugin it requires fails (it then waits in `enabled` and starts once that one runs), and
   * with PLUGD_E_STATE if it is disabled or removed before it ran.
   */
  async enable(nameOrId: string): Promise<void> {
    this.#assertOpen();
    const record = this.#claim(nameOrId);
    const order = withDependencies(this.#store.requiresMap(), record.manifest.name);
    const missing = order.filter((n) => !this.#store.byName(n));
    if (missing.length > 0) {
      throw new PlugdError('PLUGD_E_DEPENDENCY', `plugin "${record.manifest.name}" requires ${missing.map((m) => `"${m}"`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed`);
    }
    const stops = this.#actors.afterStops(order);
    if (stops) {
      await stops;
      this.#assertOpen();
    }
    const running = this.#actors.whenRunning(record.manifest.name, order);
    // The enabled flags are written while the plugins activate: an fsync per plugin must not
    // delay every activation behind it.
    const toPersist = order.map((n) => this.#store.byName(n)!).filter((r) => !r.settings.enabled);
    const persisted = Promise.all(toPersist.map((r) => this.#settings.write(r, { enabled: true })));
    for (const name of order) this.#actors.enable(name);
    // `running` may settle while the flags are written (a close, a failed activation): it is
    // awaited below, so mark it handled now rather than leave an unhandled rejection.
    running.catch(() => undefined);
    try {
      await persisted;
    } catch (e) {
      // Not recorded, not run: a host restart would not bring it back.
      for (const r of toPersist) void this.#actors.disable(r.manifest.name).catch(() => undefined);
      throw e;
    }
    await running;
  }

  /**
   * Stops a plugin (deactivate, then terminate) and keeps it disabled across host restarts.
   * Resolves at once for a plugin at rest, once its stop ends otherwise; a restart waiting out
   * its backoff is cancelled. An acquired plugin needs `force` (PLUGD_E_IN_USE).
   */
  async disable(nameOrId: string, options: { force?: boolean } = {}): Promise<void> {
    this.#assertOpen();
    const record = this.#claim(nameOrId);
    const name = record.manifest.name;
    this.#refs.assertFree(name, options.force);
    await this.#settings.write(record, { enabled: false });
    if (this.#actors.hasTag(name, 'atRest')) return;
    await this.#actors.disable(name);
  }

  /**
   * Removes a disabled (or never enabled) plugin from the store: PLUGD_E_STATE in any other state,
   * unless `force`, which disables it first (and waits for its stop).
   */
  async remove(nameOrId: string, options: { force?: boolean } = {}): Promise<void> {
    this.#assertOpen();
    const record = this.#claim(nameOrId);
    const name = record.manifest.name;
    const dependents = this.#store.list().filter((r) => r.manifest.requires.includes(name)).map((r) => r.manifest.name);
    if (dependents.length > 0 && !options.force) {
      throw new PlugdError('PLUGD_E_DEPENDENCY', `plugin "${name}" is required by ${dependents.join(', ')}; remove those first or pass { force: true }`);
    }
    this.#refs.assertFree(name, options.force);
    if (!this.#actors.can(name, { type: 'REMOVE' })) {
      if (!options.force) throw new PlugdError('PLUGD_E_STATE', `plugin "${name}" is ${this.#actors.stateOf(name)}; disable it first or pass { force: true }`);
      await this.disable(name, { force: true });
    }
    await this.#actors.remove(name);
    await this.#settings.settle(record.id);
    await this.#exclusive(() => this.#store.remove(record.id));
    this.#retire(record.id, name);
    this.#log.info({ plugin: name, id: record.id }, `removed ${name}`);
  }

  /** Sets settable env variables (`KEY=VALUE`). Refused while the plugin has an instance. */
  async set(nameOrId: string, env: string[]): Promise<void> {
    this.#assertOpen();
    const record = this.#claim(nameOrId);
    if (!Array.isArray(env)) throw new PlugdError('PLUGD_E_OPTION', 'set() takes an array of "KEY=VALUE" strings', { details: { option: 'env' } });
    if (!this.#actors.hasTag(record.manifest.name, 'atRest')) {
      throw new PlugdError('PLUGD_E_STATE', `plugin "${record.manifest.name}" is ${this.#actors.stateOf(record.manifest.name)}; disable it before changing its settings`);
    }
    const merged = mergeEnvSettings(record.manifest, record.settings.env, env);
    await this.#settings.write(record, { env: merged });
  }

  /** Stops a plugin's instance and starts a new one; resolves once it runs again. Refused unless enabled. */
  async restart(nameOrId: string): Promise<void> {
    this.#assertOpen();
    const record = this.#claim(nameOrId);
    const name = record.manifest.name;
    if (!record.settings.enabled) throw new PlugdError('PLUGD_E_STATE', `plugin "${name}" is not enabled; enable it instead`);
    this.#refs.assertFree(name, false);
    if (!this.#actors.hasTag(name, 'atRest')) await this.#actors.disable(name);
    await this.enable(name);
  }

  // ── lookup and calls ─────────────────────────────────────────────────────────────────────

  /**
   * A client for one capability of a plugin (Docker's plugin lookup). With `acquire`, the plugin
   * counts as in use until `client.release()`: disable and remove then need `force`.
   */
  async get(nameOrId: string, capability: Capability, options: { acquire?: boolean } = {}): Promise<PluginClient> {
    this.#assertOpen();
    const record = this.#store.resolve(nameOrId);
    const name = record.manifest.name;
    const implemented = new Set([...record.manifest.interface.types, ...(this.#actors.contextOf(name)?.implements ?? [])]);
    if (!implemented.has(capability)) {
      throw new PlugdError('PLUGD_E_CAPABILITY', `plugin "${name}" does not implement "${capability}"; it implements ${[...implemented].join(', ')}`);
    }
    if (options.acquire) this.#refs.acquire(name);
    return new PluginClient(this.#clientBackend, name, capability, options.acquire === true);
  }

  /** Clients of every running plugin that implements `capability` (synchronous). */
  find(capability: Capability): PluginClient[] {
    return this.#store.list()
      .map((r) => r.manifest.name)
      .filter((name) => this.#actors.hasTag(name, 'running') && (this.#actors.contextOf(name)?.implements ?? []).includes(capability))
      .map((name) => new PluginClient(this.#clientBackend, name, capability, false));
  }

  /**
   * Calls `handler` on every activation of a plugin implementing `capability`, and at once for
   * those already running. Returns the function that unregisters it.
   */
  handle(capability: Capability, handler: ActivationHandler): () => void {
    const unregister = this.#handlers.add(capability, handler);
    for (const client of this.find(capability)) queueMicrotask(() => this.#handlers.call(handler, client));
    return unregister;
  }

  // ── observation ──────────────────────────────────────────────────────────────────────────

  /** The plugin's current facts (synchronous: read from its actor's snapshot). */
  inspect(nameOrId: string): PluginInfo {
    return this.#describe(this.#store.resolve(nameOrId));
  }

  /** Every installed plugin's facts, optionally filtered (synchronous). */
  list(filter: { capability?: Capability; enabled?: boolean } = {}): PluginInfo[] {
    const infos: PluginInfo[] = [];
    for (const record of this.#store.list()) {
      if (filter.enabled !== undefined && record.settings.enabled !== filter.enabled) continue;
      const info = this.#describe(record);
      if (filter.capability !== undefined && !info.implements.includes(filter.capability) && !record.manifest.interface.types.includes(filter.capability)) continue;
      infos.push(info);
    }
    return infos.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The last lines a plugin logged (pino objects, oldest first), from memory or its log file. */
  async logs(nameOrId: string, options: { tail?: number } = {}): Promise<LogLine[]> {
    this.#assertOpen();
    return this.#pump.tail(this.#store.resolve(nameOrId).id, options.tail ?? 100);
  }

  /** Subscribes to plugin state changes. */
  on(event: 'state', listener: (e: StateEvent) => void): this {
    if (event === 'state') this.#actors.on(listener);
    return this;
  }

  off(event: 'state', listener: (e: StateEvent) => void): this {
    if (event === 'state') this.#actors.off(listener);
    return this;
  }

  /** The Prometheus text exposition of plugd's metrics (what `GET /v1/metrics` serves). */
  metrics(): Promise<string> {
    return this.#metrics.text();
  }

  /** Where the control API listens (socket path or host:port), or null without `control`. */
  get controlAddress(): string | null {
    return this.#control?.address ?? null;
  }

  /** The web inspector's URL with its one-time token (`control: { inspector: { port } }`), or null. */
  get inspectorUrl(): string | null {
    return this.#inspector?.url ?? null;
  }

  /**
   * Resolves once every plugin restored at open (those enabled when the host last stopped, and
   * `always` plugins) has settled its first activation: it runs, or its activation failed (it is
   * then `restarting`, backing off, or `disabled` if its policy gave up), or a plugin it requires
   * failed (it then waits in `enabled` and starts once that dependency runs). It does not wait
   * for a restart after a backoff, and never rejects: failures are in the report, in the
   * `state` events and in the log. Resolves at once with an empty report when `restore` is off.
   * A close before then ends the waits (their plugins are reported failed with PLUGD_E_CLOSED).
   *
   * @example
   * const sup = await createSupervisor({ root: '.plugd' });
   * const { failed } = await sup.restored();
   * for (const { name, error } of failed) console.error(`${name} did not start: ${error.message}`);
   */
  restored(): Promise<RestoreReport> {
    return this.#restoring;
  }

  /** Resolves once the warm pool (`warmWorkers`) holds all its standby threads. */
  warmed(): Promise<void> {
    return this.#instances.warmed();
  }

  /** The store's root folder. */
  get root(): string {
    return this.#store.root;
  }

  /**
   * Stops every plugin in reverse dependency order (deactivate, each within stopTimeoutMs), then
   * ends the log pump and the task pool. Plugins keep their enabled flag for the next start.
   */
  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────

  async #shutdown(): Promise<void> {
    await this.#inspector?.close();
    await this.#control?.close();
    const bound = this.#options.stopTimeoutMs * (this.#store.list().length + 1) + 1_000;
    if (!(await this.#actors.close(bound))) this.#log.error(`plugins did not stop within ${bound} ms; terminating them`);
    await Promise.all([this.#instances.close(), this.#pump.close(), this.#tasks.close()]);
    await this.#store.close();
  }

  /** Starts the control API; a supervisor that cannot serve it does not open. */
  async #serve(listen: NonNullable<ResolvedOptions['control']>): Promise<void> {
    const history = new EventHistory();
    this.#actors.on(history.record);
    try {
      const factsOf = (name: string) => ({ state: this.#actors.stateOf(name), context: this.#actors.contextOf(name), grantedEnv: this.#store.resolve(name).settings.grantedEnv });
      this.#control = await ControlServer.start({ sup: this, listen, metrics: this.#metrics, history, factsOf, logsDir: this.#store.logsDir, log: this.#log });
      if (listen.kind === 'socket' && listen.inspector) this.#inspector = await startInspector({ socket: listen.socket, port: listen.inspector.port });
    } catch (e) {
      await this.close();
      throw e;
    }
    this.#log.info({ control: this.#control.address }, `control API on ${this.#control.address}`);
    if (this.#inspector) this.#log.info({ inspector: this.#inspector.port }, `inspector on http://127.0.0.1:${this.#inspector.port}/`);
  }

  /** Serialises writes to the store, so two installs cannot both take one name. */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#storeQueue.then(work, work);
    this.#storeQueue = run.catch(() => undefined);
    return run;
  }

  #installContext(options: InstallOptions): InstallContext {
    return {
      tasks: this.#tasks,
      scratchDir: () => this.#store.scratchDir(),
      maxEntries: this.#options.maxBundleEntries,
      registryTimeoutMs: this.#options.registryTimeoutMs,
      allowScripts: options.allowScripts,
      onProgress: options.onProgress,
    };
  }

  #describe(record: PluginRecord): PluginInfo {
    const name = record.manifest.name;
    return describePlugin(record, this.#actors.stateOf(name), this.#actors.contextOf(name), this.#instances.current(name), this.#instances.logTotals(name), this.#refs.count(name));
  }

  /** Forgets what the runtime kept of a record that left the store (its log, counters, references). */
  #retire(id: string, name: string): void {
    this.#pump.forget(id);
    this.#refs.forget(name);
    this.#instances.forget(name);
    this.#metrics.calls.forget(name);
  }

  /** The record an operation will change: every such operation goes through the plugin's lock. */
  #claim(nameOrId: string): PluginRecord {
    const record = this.#store.resolve(nameOrId);
    this.#locks.check(record.manifest.name);
    return record;
  }

  #assertOpen(): void {
    if (this.#closed) throw new PlugdError('PLUGD_E_CLOSED', 'the supervisor is closed');
  }
}

/**
 * Opens the store at `options.root`, starts the supervisor and starts restoring the plugins that
 * were enabled. Resolves once the store is open and the restore has started, not when it ends:
 * await `sup.restored()` to wait for it. Rejects with PLUGD_E_OPTION naming a bad option, and
 * with PLUGD_E_STORE_LOCKED while another live supervisor holds the root.
 *
 * @example
 * const sup = await createSupervisor({ root: '.plugd', watchdogMs: 500 });
 * await sup.restored(); // optional: the plugins enabled last time have run or failed
 */
export async function createSupervisor(options: SupervisorOptions): Promise<Supervisor> {
  return Supervisor.open(options);
}
