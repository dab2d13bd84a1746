// The facade a host holds: it validates, then hands work to the runtime: the plugin entries,
// installs (runtime/installs.ts), the supervisor actor (runtime/plugin-actors.ts), the instances
// (worker, process, external) and the log pump.
import path from 'node:path';
import type { Logger } from 'pino';
import { PluginClient, type ClientBackend } from './client.js';
import { PlugdError } from './errors.js';
import { ActivationHandlers, type ActivationHandler } from './runtime/activation-handlers.js';
import { adoptDiscovered, discoverPlugins, type DiscoveryProblem } from './docker/discovery.js';
import { Instances } from './isolation/instances.js';
import { LogPump } from './logs/log-pump.js';
import type { LogLine } from './logs/pump-protocol.js';
import { resolveOptions, type ResolvedOptions, type SupervisorOptions } from './options.js';
import { mergeEnvSettings } from './isolation/plugin-env.js';
import { describePlugin, describePlugins, type PluginInfo } from './runtime/plugin-info.js';
import { PluginEntries } from './runtime/plugin-entries.js';
import type { PluginEntry } from './runtime/plugin-entry.js';
import { Installs, type InstallOptions } from './runtime/installs.js';
import { enableWithRequires, restartPlugin } from './runtime/enabling.js';
import { PluginActors } from './runtime/plugin-actors.js';
import { restore, toRestore, type RestoreReport } from './runtime/restore.js';
import { SettingsWriter } from './store/settings-writer.js';
import type { StateEvent } from './runtime/state-event.js';
import { Store, type StoreProblem } from './store/store.js';
import { TaskPool } from './tasks/task-pool.js';
import type { ControlServer } from './control/control-server.js';
import type { Inspector } from './inspector/index.js';
import { EventHistory } from './control/event-history.js';
import { PluginMetrics } from './control/metrics.js';
import { instanceUsage } from './control/plugin-usage.js';

export type Capability = string;
export type { ActivationHandler, InstallOptions, RestoreReport, StateEvent };

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
  readonly #entries = new PluginEntries();
  readonly #installs: Installs;
  readonly #handlers: ActivationHandlers;
  readonly #clientBackend: ClientBackend;
  readonly #settings: SettingsWriter;
  #closed: Promise<void> | null = null;
  #restoring: Promise<RestoreReport> = Promise.resolve({ running: [], failed: [] });
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
    this.#instances = new Instances(options, store, this.#entries, this.#pump, this.#tasks, this.#log);
    this.#handlers = new ActivationHandlers(this.#log);
    this.#metrics = new PluginMetrics({ list: () => this.list(), usageOf: (name) => instanceUsage(this.#instances.current(name)) });
    this.#clientBackend = {
      calls: this.#metrics.calls,
      // A stopping plugin takes no new call: its instance is ending.
      instanceOf: (name) => (this.#actors.hasTag(name, 'running') ? this.#instances.current(name) : undefined),
      callTimeoutMs: options.callTimeoutMs,
      release: (name) => this.#entries.get(name)?.release(),
      activate: (name) => this.#actors.activate(name),
      callStarted: (name) => this.#actors.callStarted(name),
    };
    this.#actors = new PluginActors(this.#instances, options, this.#log, (event, context) => {
      if (event.to !== 'running') return;
      this.#handlers.activated(
        event.name,
        context?.implements ?? [],
        (capability) => new PluginClient(this.#clientBackend, event.name, capability, false),
      );
    });
    this.#installs = new Installs({
      options,
      store,
      entries: this.#entries,
      actors: this.#actors,
      settings: this.#settings,
      tasks: this.#tasks,
      log: this.#log,
      assertOpen: () => this.#assertOpen(),
      admit: (entry) => this.#admit(entry),
      retire: (entry) => this.#retire(entry),
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
    for (const record of store.list()) sup.#admit(sup.#entries.add(record, 'installed'));
    if (resolved.control) await sup.#serve(resolved.control);
    // Started, not awaited: one plugin's slow or failing activation never holds the host's start.
    if (resolved.restore)
      sup.#restoring = restore(
        toRestore(store.list()),
        (id) => sup.enable(id),
        sup.#log,
        () => sup.#closed !== null,
      );
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
    return this.#installs.install(bundleDir, options);
  }

  /**
   * Replaces a plugin with another version of it (Docker's `plugin upgrade`): the bundle must
   * carry the same name, and the plugin must be at rest (disable it first) and not in use. Env
   * settings the new version still declares settable carry over; host variables it newly asks
   * for need `grantPermissions`. One index write swaps the records. The plugin stays disabled.
   * Without `bundlePath`, a plugin installed from the npm registry moves to the newest version
   * its original spec allows; `npm:name@2` moves it to another range.
   */
  async upgrade(
    nameOrId: string,
    bundlePath?: string,
    options: InstallOptions = {},
  ): Promise<{ id: string; name: string; previous: string }> {
    this.#assertOpen();
    return this.#installs.upgrade(this.#claim(nameOrId), bundlePath, options);
  }

  /**
   * Finds plugins run by someone else (Docker's legacy discovery: `<name>.sock` in `socketsDir`,
   * `<name>.spec` and `<name>.json` in `specsDirs`), activates them with the same handshake and
   * registers their capabilities. They get the health watchdog but no restart: their process is
   * not plugd's. They live in memory only; a host start discovers them again.
   */
  async discover(
    options: { socketsDir?: string; specsDirs?: string[] } = {},
  ): Promise<{ activated: string[]; problems: DiscoveryProblem[] }> {
    this.#assertOpen();
    return adoptDiscovered(await discoverPlugins(options), {
      adopt: (record) => {
        if (this.#entries.get(record.manifest.name)) return false; // installed, or discovered before
        this.#admit(this.#entries.add(record, 'discovered'));
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
    const entry = this.#claim(nameOrId);
    return enableWithRequires(entry, {
      entries: this.#entries,
      actors: this.#actors,
      settings: this.#settings,
      assertOpen: () => this.#assertOpen(),
    });
  }

  /**
   * Stops a plugin (deactivate, then terminate) and keeps it disabled across host restarts.
   * Resolves at once for a plugin at rest, once its stop ends otherwise; a restart waiting out
   * its backoff is cancelled. An acquired plugin needs `force` (PLUGD_E_IN_USE).
   */
  async disable(nameOrId: string, options: { force?: boolean } = {}): Promise<void> {
    this.#assertOpen();
    const entry = this.#claim(nameOrId);
    const { name } = entry.assertFree(options.force);
    await this.#settings.write(entry, { enabled: false });
    if (this.#actors.hasTag(name, 'atRest')) return;
    await this.#actors.disable(name);
  }

  /**
   * Removes a disabled (or never enabled) plugin from the store: PLUGD_E_STATE in any other state,
   * unless `force`, which disables it first (and waits for its stop).
   */
  async remove(nameOrId: string, options: { force?: boolean } = {}): Promise<void> {
    this.#assertOpen();
    const entry = this.#claim(nameOrId);
    const { name } = entry;
    const dependents = this.#entries.dependentsOf(name);
    if (dependents.length > 0 && !options.force) {
      throw new PlugdError(
        'PLUGD_E_DEPENDENCY',
        `plugin "${name}" is required by ${dependents.join(', ')}; remove those first or pass { force: true }`,
      );
    }
    entry.assertFree(options.force);
    if (!this.#actors.can(name, { type: 'REMOVE' })) {
      if (!options.force)
        throw new PlugdError(
          'PLUGD_E_STATE',
          `plugin "${name}" is ${this.#actors.stateOf(name)}; disable it first or pass { force: true }`,
        );
      await this.disable(name, { force: true });
    }
    await this.#installs.remove(entry);
  }

  /** Sets settable env variables (`KEY=VALUE`). Refused while the plugin has an instance. */
  async set(nameOrId: string, env: string[]): Promise<void> {
    this.#assertOpen();
    const entry = this.#claim(nameOrId);
    const { record } = entry;
    if (!Array.isArray(env))
      throw new PlugdError('PLUGD_E_OPTION', 'set() takes an array of "KEY=VALUE" strings', { details: { option: 'env' } });
    if (!this.#actors.hasTag(record.manifest.name, 'atRest')) {
      throw new PlugdError(
        'PLUGD_E_STATE',
        `plugin "${record.manifest.name}" is ${this.#actors.stateOf(record.manifest.name)}; disable it before changing its settings`,
      );
    }
    const merged = mergeEnvSettings(record.manifest, record.settings.env, env);
    await this.#settings.write(entry, { env: merged });
  }

  /** Stops a plugin's instance and starts a new one; resolves once it runs again. Refused unless enabled. */
  async restart(nameOrId: string): Promise<void> {
    this.#assertOpen();
    await restartPlugin(this.#claim(nameOrId), this.#actors, (name) => this.enable(name));
  }

  // ── lookup and calls ─────────────────────────────────────────────────────────────────────

  /**
   * A client for one capability of a plugin (Docker's plugin lookup). With `acquire`, the plugin
   * counts as in use until `client.release()`: disable and remove then need `force`.
   */
  async get(nameOrId: string, capability: Capability, options: { acquire?: boolean } = {}): Promise<PluginClient> {
    this.#assertOpen();
    const { record, name } = this.#entries.resolve(nameOrId);
    const implemented = new Set([...record.manifest.interface.types, ...(this.#actors.contextOf(name)?.implements ?? [])]);
    if (!implemented.has(capability)) {
      throw new PlugdError(
        'PLUGD_E_CAPABILITY',
        `plugin "${name}" does not implement "${capability}"; it implements ${[...implemented].join(', ')}`,
      );
    }
    if (options.acquire) this.#entries.get(name)!.acquire();
    return new PluginClient(this.#clientBackend, name, capability, options.acquire === true);
  }

  /**
   * Clients of every running plugin that implements `capability` (synchronous), and of every
   * idle lazy plugin that declares it: a call through such a client activates the plugin.
   */
  find(capability: Capability): PluginClient[] {
    return this.#entries
      .list()
      .filter(
        (e) =>
          this.#runs(e.name, capability) || (this.#actors.hasTag(e.name, 'idle') && e.record.manifest.interface.types.includes(capability)),
      )
      .map((e) => new PluginClient(this.#clientBackend, e.name, capability, false));
  }

  /**
   * Calls `handler` on every activation of a plugin implementing `capability`, and at once for
   * those already running. Returns the function that unregisters it. It activates no lazy plugin.
   */
  handle(capability: Capability, handler: ActivationHandler): () => void {
    const unregister = this.#handlers.add(capability, handler);
    for (const { name } of this.#entries.list()) {
      if (!this.#runs(name, capability)) continue;
      const client = new PluginClient(this.#clientBackend, name, capability, false);
      queueMicrotask(() => this.#handlers.call(handler, client));
    }
    return unregister;
  }

  #runs(name: string, capability: Capability): boolean {
    return this.#actors.hasTag(name, 'running') && (this.#actors.contextOf(name)?.implements ?? []).includes(capability);
  }

  // ── observation ──────────────────────────────────────────────────────────────────────────

  /** The plugin's current facts (synchronous: read from its actor's snapshot). */
  inspect(nameOrId: string): PluginInfo {
    return describePlugin(this.#entries.resolve(nameOrId));
  }

  /** Every installed plugin's facts, optionally filtered (synchronous). */
  list(filter: { capability?: Capability; enabled?: boolean } = {}): PluginInfo[] {
    return describePlugins(this.#entries.list(), filter);
  }

  /** The last lines a plugin logged (pino objects, oldest first), from memory or its log file. */
  async logs(nameOrId: string, options: { tail?: number } = {}): Promise<LogLine[]> {
    this.#assertOpen();
    return this.#pump.tail(this.#entries.resolve(nameOrId).id, options.tail ?? 100);
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
    const bound = this.#options.stopTimeoutMs * (this.#entries.size + 1) + 1_000;
    if (!(await this.#actors.close(bound))) this.#log.error(`plugins did not stop within ${bound} ms; terminating them`);
    // Writes queued by an enable, disable or set just before close() must land before close()
    // resolves: a host may remove the store right after.
    await Promise.all([this.#settings.close(), this.#installs.close()]);
    await Promise.all([this.#instances.close(), this.#pump.close(), this.#tasks.close()]);
    await this.#store.close();
  }

  /** Spawns the actor of a plugin that just got its entry. */
  #admit(entry: PluginEntry): void {
    entry.actor = this.#actors.add(entry.record);
  }

  /** Starts the control API; a supervisor that cannot serve it does not open. */
  async #serve(listen: NonNullable<ResolvedOptions['control']>): Promise<void> {
    const history = new EventHistory();
    this.#actors.on(history.record);
    try {
      const factsOf = (name: string) => ({
        state: this.#actors.stateOf(name),
        context: this.#actors.contextOf(name),
        grantedEnv: this.#entries.resolve(name).record.settings.grantedEnv,
      });
      // Loaded here: a host without `control` never loads Fastify, nor the inspector's layout engine.
      const { ControlServer } = await import('./control/control-server.js');
      this.#control = await ControlServer.start({
        sup: this,
        listen,
        metrics: this.#metrics,
        history,
        factsOf,
        logsDir: this.#store.logsDir,
        logTail: (id, lines) => this.#pump.tailAt(id, lines),
        log: this.#log,
      });
      if (listen.kind === 'socket' && listen.inspector)
        this.#inspector = await (await import('./inspector/index.js')).startInspector({
          socket: listen.socket,
          port: listen.inspector.port,
        });
    } catch (e) {
      await this.close();
      throw e;
    }
    this.#log.info({ control: this.#control.address }, `control API on ${this.#control.address}`);
    if (this.#inspector) this.#log.info({ inspector: this.#inspector.port }, `inspector on http://127.0.0.1:${this.#inspector.port}/`);
  }

  /** Forgets what the runtime kept of a plugin that left the store or discovery: its entry, its log. */
  #retire(entry: PluginEntry): void {
    this.#entries.delete(entry);
    this.#pump.forget(entry.id);
    this.#metrics.calls.forget(entry.name);
  }

  /** The plugin an operation will change: every such operation checks that nothing holds it. */
  #claim(nameOrId: string): PluginEntry {
    const entry = this.#entries.resolve(nameOrId);
    entry.checkUnheld();
    return entry;
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
