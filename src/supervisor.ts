// The facade a host holds: it validates, writes the store, and hands work to the supervisor
// actor (machines/supervisor.machine.ts), the worker instances, the watchdog and the log pump.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import stableStringify from 'fast-json-stable-stringify';
import { pino, type Logger } from 'pino';
import { createActor, waitFor, type Actor } from 'xstate';
import { findCycle, withDependencies } from '../machines/dependency-graph.js';
import { pluginMachine, pluginStateName, type PluginContext } from '../machines/plugin.machine.js';
import { supervisorMachine, type StateChange } from '../machines/supervisor.machine.js';
import type { PluginStateName } from '../machines/types.js';
import { PluginClient, type ClientBackend } from './client.js';
import { PlugdError, type ErrorInfo } from './errors.js';
import { ActivationHandlers, type ActivationHandler } from './activation-handlers.js';
import { discoverPlugins, type DiscoveredPlugin, type DiscoveryProblem } from './discovery.js';
import { checkPermissions, prepareBundle } from './installer.js';
import { Instances } from './instances.js';
import { createInstanceActor } from './isolation/instance-actor.js';
import { LogPump } from './logs/log-pump.js';
import { Semaphore } from './semaphore.js';
import type { LogLine } from './logs/pump-protocol.js';
import { resolveOptions, type ResolvedOptions, type SupervisorOptions } from './options.js';
import { mergeEnvSettings } from './plugin-env.js';
import { describePlugin, type PluginInfo } from './plugin-info.js';
import { StateWaiters } from './state-waiters.js';
import { Store, type PluginRecord, type StoreProblem } from './store.js';
import { TaskPool } from './tasks/task-pool.js';

/** Emitted on every plugin state change. */
export interface StateEvent {
  name: string;
  from: PluginStateName | null;
  to: PluginStateName;
  /** Epoch milliseconds. */
  at: number;
  /** The error that caused this change: set on a failure (to restarting, or a give-up), else null. */
  error: ErrorInfo | null;
  restarts: number;
}

export type Capability = string;
export type { ActivationHandler };

const AT_REST: readonly PluginStateName[] = ['installed', 'disabled', 'removed'];

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
  readonly #waiters = new StateWaiters();
  readonly #actor: Actor<typeof supervisorMachine>;
  readonly #events = new EventEmitter();
  readonly #refs = new Map<string, number>();
  readonly #handlers: ActivationHandlers;
  readonly #clientBackend: ClientBackend;
  #storeQueue: Promise<unknown> = Promise.resolve();
  /**
   * Settings writes: ordered per plugin, and at most two at once: libuv's 4-thread pool is shared
   * by every thread of the process, and a burst of enables must not fill it with fsyncs while
   * plugin threads need it to read their modules. Activations do not wait on these writes.
   */
  readonly #settingsQueues = new Map<string, Promise<unknown>>();
  readonly #settingsSlots = new Semaphore(2);
  #closed: Promise<void> | null = null;

  private constructor(options: ResolvedOptions, store: Store, problems: StoreProblem[]) {
    this.#options = options;
    this.#store = store;
    this.problems = problems;
    this.#log = (options.logger ?? pino({ name: 'plugd' })).child({ component: 'plugd' });
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
    this.#clientBackend = {
      instanceOf: (name) => this.#instances.current(name),
      callTimeoutMs: options.callTimeoutMs,
      release: (name) => this.#refs.set(name, Math.max(0, (this.#refs.get(name) ?? 0) - 1)),
    };
    const instance = createInstanceActor(this.#instances);
    // The machine stays pure: the runtime brings the randomness of the restart jitter.
    const jitter = options.restartJitter;
    const plugin = pluginMachine.provide({
      actors: { instance },
      delays: { restartDelay: ({ context }) => Math.round(context.restartDelayMs * (1 + jitter * Math.random())) },
    });
    const machine = supervisorMachine.provide({ actors: { plugin } });
    this.#actor = createActor(machine, options.inspect ? { inspect: options.inspect } : {});
    this.#actor.on('state', (change) => this.#onStateChange(change));
    this.#actor.start();
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
    for (const record of store.list()) sup.#add(record);
    if (resolved.restore) await sup.#restore();
    return sup;
  }

  // ── install, enable, disable, remove, set ────────────────────────────────────────────────

  /** Copies a bundle folder into the store. The plugin starts `installed`; enable it to run it. */
  async install(bundleDir: string, options: { grantPermissions?: boolean } = {}): Promise<{ id: string; name: string }> {
    this.#assertOpen();
    const bundle = await prepareBundle(bundleDir, this.#tasks);
    const { manifest, id } = bundle;
    const grantedEnv = checkPermissions(manifest, options.grantPermissions === true);
    return this.#exclusive(async () => {
      this.#assertOpen();
      const clash = this.#store.list().find((r) => r.manifest.name === manifest.name || r.id === id);
      if (clash) {
        throw new PlugdError('PLUGD_E_EXISTS', `plugin "${manifest.name}" is already installed (id ${clash.id.slice(0, 12)}); remove it first to install another version`);
      }
      const requires = this.#store.requiresMap();
      requires.set(manifest.name, manifest.requires);
      const cycle = findCycle(requires);
      if (cycle) {
        throw new PlugdError('PLUGD_E_CYCLE', `installing "${manifest.name}" would make a requires cycle: ${cycle.join(' -> ')}`, { details: { cycle } });
      }
      const record = await this.#store.add(id, manifest, bundle.dir, { enabled: false, env: [], grantedEnv });
      this.#add(record);
      this.#log.info({ plugin: manifest.name, id }, `installed ${manifest.name}@${manifest.version}`);
      return { id, name: manifest.name };
    });
  }

  /**
   * Finds plugins run by someone else (Docker's legacy discovery: `<name>.sock` in `socketsDir`,
   * `<name>.spec` and `<name>.json` in `specsDirs`), activates them with the same handshake and
   * registers their capabilities. They get the health watchdog but no restart: their process is
   * not plugd's. They live in memory only; a host start discovers them again.
   */
  async discover(options: { socketsDir?: string; specsDirs?: string[] } = {}): Promise<{ activated: string[]; problems: DiscoveryProblem[] }> {
    this.#assertOpen();
    const { plugins, problems } = await discoverPlugins(options);
    const added: DiscoveredPlugin[] = [];
    for (const plugin of plugins) {
      if (this.#store.byName(plugin.name)) continue; // installed, or discovered before
      const id = createHash('sha256').update(stableStringify({ external: plugin.name, address: plugin.address })).digest('hex');
      const record: PluginRecord = {
        id,
        bundleDir: '',
        settings: { enabled: true, env: [], grantedEnv: [] },
        manifest: {
          kind: 'external', name: plugin.name, version: '0.0.0', address: plugin.address, description: `discovered at ${plugin.file}`,
          interface: { types: [] }, env: [], args: [], permissions: { env: [] }, restart: { policy: 'no' }, requires: [],
        },
      };
      this.#store.addExternal(record);
      this.#add(record);
      added.push(plugin);
    }
    const outcomes = await Promise.allSettled(added.map((p) => this.enable(p.name)));
    const activated: string[] = [];
    outcomes.forEach((outcome, i) => {
      const plugin = added[i]!;
      if (outcome.status === 'fulfilled') activated.push(plugin.name);
      else problems.push({ file: plugin.file, error: outcome.reason instanceof PlugdError ? outcome.reason : new PlugdError('PLUGD_E_ACTIVATION', String(outcome.reason)) });
    });
    return { activated, problems };
  }

  /**
   * Enables a plugin (and the plugins it requires) and resolves once it runs. Rejects with the
   * activation's error if it fails; the restart policy then decides what follows.
   */
  async enable(nameOrId: string): Promise<void> {
    this.#assertOpen();
    const record = this.#record(nameOrId);
    const order = withDependencies(this.#store.requiresMap(), record.manifest.name);
    const missing = order.filter((n) => !this.#store.byName(n));
    if (missing.length > 0) {
      throw new PlugdError('PLUGD_E_DEPENDENCY', `plugin "${record.manifest.name}" requires ${missing.map((m) => `"${m}"`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed`);
    }
    const running = this.#waiters.whenRunning(record.manifest.name, order);
    // The enabled flags are written while the plugins activate: an fsync per plugin must not
    // delay every activation behind it.
    const toPersist = order.map((n) => this.#store.byName(n)!).filter((r) => !r.settings.enabled);
    const persisted = Promise.all(toPersist.map((r) => this.#writeSettings(r, { enabled: true })));
    for (const name of order) this.#actor.send({ type: 'ENABLE', name });
    // `running` may settle while the flags are written (a close, a failed activation): it is
    // awaited below, so mark it handled now rather than leave an unhandled rejection.
    running.catch(() => undefined);
    try {
      await persisted;
    } catch (e) {
      // Not recorded, not run: a host restart would not bring it back.
      for (const r of toPersist) this.#actor.send({ type: 'DISABLE', name: r.manifest.name });
      throw e;
    }
    await running;
  }

  /** Stops a plugin (deactivate, then terminate) and keeps it disabled across host restarts. */
  async disable(nameOrId: string, options: { force?: boolean } = {}): Promise<void> {
    this.#assertOpen();
    const record = this.#record(nameOrId);
    const name = record.manifest.name;
    this.#assertNotInUse(name, options.force);
    await this.#writeSettings(record, { enabled: false });
    if (AT_REST.includes(this.#stateOf(name))) return;
    const stopped = this.#waiters.whenState(name, (s) => s === 'disabled');
    this.#actor.send({ type: 'DISABLE', name });
    await stopped;
  }

  /** Removes a disabled (or never enabled) plugin from the store. `force` disables it first. */
  async remove(nameOrId: string, options: { force?: boolean } = {}): Promise<void> {
    this.#assertOpen();
    const record = this.#record(nameOrId);
    const name = record.manifest.name;
    const dependents = this.#store.list().filter((r) => r.manifest.requires.includes(name)).map((r) => r.manifest.name);
    if (dependents.length > 0 && !options.force) {
      throw new PlugdError('PLUGD_E_DEPENDENCY', `plugin "${name}" is required by ${dependents.join(', ')}; remove those first or pass { force: true }`);
    }
    this.#assertNotInUse(name, options.force);
    if (!AT_REST.includes(this.#stateOf(name))) {
      if (!options.force) throw new PlugdError('PLUGD_E_STATE', `plugin "${name}" is ${this.#stateOf(name)}; disable it first or pass { force: true }`);
      await this.disable(name, { force: true });
    }
    const removed = this.#waiters.whenState(name, (s) => s === 'removed');
    this.#actor.send({ type: 'REMOVE', name });
    await removed;
    await this.#settingsQueues.get(record.id)?.catch(() => undefined);
    this.#settingsQueues.delete(record.id);
    await this.#exclusive(() => this.#store.remove(record.id));
    this.#pump.forget(record.id);
    this.#refs.delete(name);
    this.#instances.forget(name);
    this.#log.info({ plugin: name, id: record.id }, `removed ${name}`);
  }

  /** Sets settable env variables (`KEY=VALUE`). Refused while the plugin has an instance. */
  async set(nameOrId: string, env: string[]): Promise<void> {
    this.#assertOpen();
    const record = this.#record(nameOrId);
    if (!Array.isArray(env)) throw new PlugdError('PLUGD_E_OPTION', 'set() takes an array of "KEY=VALUE" strings', { details: { option: 'env' } });
    const state = this.#stateOf(record.manifest.name);
    if (!AT_REST.includes(state)) {
      throw new PlugdError('PLUGD_E_STATE', `plugin "${record.manifest.name}" is ${state}; disable it before changing its settings`);
    }
    const merged = mergeEnvSettings(record.manifest, record.settings.env, env);
    await this.#writeSettings(record, { env: merged });
  }

  // ── lookup and calls ─────────────────────────────────────────────────────────────────────

  /**
   * A client for one capability of a plugin (Docker's plugin lookup). With `acquire`, the plugin
   * counts as in use until `client.release()`: disable and remove then need `force`.
   */
  async get(nameOrId: string, capability: Capability, options: { acquire?: boolean } = {}): Promise<PluginClient> {
    this.#assertOpen();
    const record = this.#record(nameOrId);
    const name = record.manifest.name;
    const implemented = new Set([...record.manifest.interface.types, ...(this.#contextOf(name)?.implements ?? [])]);
    if (!implemented.has(capability)) {
      throw new PlugdError('PLUGD_E_CAPABILITY', `plugin "${name}" does not implement "${capability}"; it implements ${[...implemented].join(', ')}`);
    }
    if (options.acquire) this.#refs.set(name, (this.#refs.get(name) ?? 0) + 1);
    return new PluginClient(this.#clientBackend, name, capability, options.acquire === true);
  }

  /** Clients of every running plugin that implements `capability` (synchronous). */
  find(capability: Capability): PluginClient[] {
    return this.#store.list()
      .map((r) => r.manifest.name)
      .filter((name) => this.#stateOf(name) === 'running' && (this.#contextOf(name)?.implements ?? []).includes(capability))
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
    return this.#describe(this.#record(nameOrId));
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
    const record = this.#record(nameOrId);
    const tail = options.tail ?? 100;
    if (!Number.isInteger(tail) || tail <= 0) throw new PlugdError('PLUGD_E_OPTION', 'option "tail" must be a positive whole number', { details: { option: 'tail' } });
    return this.#pump.tail(record.id, tail);
  }

  /** Subscribes to plugin state changes. */
  on(event: 'state', listener: (e: StateEvent) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  off(event: 'state', listener: (e: StateEvent) => void): this {
    this.#events.off(event, listener);
    return this;
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
    this.#waiters.close();
    this.#actor.send({ type: 'CLOSE' });
    const bound = this.#options.stopTimeoutMs * (this.#store.list().length + 1) + 1_000;
    try {
      await waitFor(this.#actor, (s) => s.status === 'done', { timeout: bound });
    } catch {
      this.#log.error(`plugins did not stop within ${bound} ms; terminating them`);
    }
    this.#actor.stop();
    await Promise.all([this.#instances.close(), this.#pump.close(), this.#tasks.close()]);
    await this.#store.close();
  }

  #add(record: PluginRecord): void {
    const { manifest } = record;
    this.#actor.send({
      type: 'ADD',
      requires: manifest.requires,
      plugin: {
        name: manifest.name,
        id: record.id,
        interfaceTypes: manifest.interface.types,
        restart: { ...manifest.restart, backoff: this.#options.restart.backoff, intensity: this.#options.restart.intensity },
        activationTimeoutMs: this.#options.activationTimeoutMs,
        stopTimeoutMs: this.#options.stopTimeoutMs,
      },
    });
  }

  /** Docker's live restore: plugins enabled when the host stopped are activated again. */
  async #restore(): Promise<void> {
    const wanted = this.#store.list().filter((r) => r.settings.enabled || r.manifest.restart.policy === 'always');
    const outcomes = wanted.map((record) => this.enable(record.id).catch((e: unknown) => {
      this.#log.error({ plugin: record.manifest.name, err: e }, `could not restore ${record.manifest.name}`);
    }));
    await Promise.all(outcomes);
  }

  #onStateChange(change: StateChange): void {
    const context = this.#contextOf(change.name);
    // Only a failure carries the error: an instance ending, or the policy giving up.
    const failed = change.to === 'restarting' || (change.to === 'disabled' && change.from === 'restarting' && context?.gaveUp != null)
      || (change.to === 'disabled' && change.from === 'activating');
    const event: StateEvent = {
      name: change.name,
      from: change.from,
      to: change.to,
      at: Date.now(),
      error: failed ? context?.lastError ?? null : null,
      restarts: context?.restarts ?? 0,
    };
    const fields = { plugin: change.name, instance: context?.instance ?? 0, from: change.from, to: change.to };
    if (event.error) this.#log.warn({ ...fields, code: event.error.code }, `${change.name}: ${change.from} -> ${change.to}: ${event.error.message}`);
    else this.#log.info(fields, `${change.name}: ${change.from} -> ${change.to}`);
    this.#waiters.notify(event);
    this.#events.emit('state', event);
    if (change.to === 'running') {
      this.#handlers.activated(change.name, context?.implements ?? [], (capability) => new PluginClient(this.#clientBackend, change.name, capability, false));
    }
  }

  /** Serialises writes to the store, so two installs cannot both take one name. */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#storeQueue.then(work, work);
    this.#storeQueue = run.catch(() => undefined);
    return run;
  }

  /** Updates a plugin's settings on disk, after any earlier update of the same plugin. */
  #writeSettings(record: PluginRecord, patch: Partial<PluginRecord['settings']>): Promise<unknown> {
    const previous = this.#settingsQueues.get(record.id) ?? Promise.resolve();
    const write = previous.catch(() => undefined).then(async () => {
      const release = await this.#settingsSlots.acquire();
      try {
        return await this.#store.writeSettings(record.id, { ...record.settings, ...patch });
      } finally {
        release();
      }
    });
    this.#settingsQueues.set(record.id, write);
    return write;
  }

  #record(nameOrId: string): PluginRecord {
    if (typeof nameOrId !== 'string' || nameOrId === '') {
      throw new PlugdError('PLUGD_E_OPTION', 'a plugin name or ID is required', { details: { option: 'name' } });
    }
    const found = this.#store.find(nameOrId);
    if (found) return found;
    throw new PlugdError('PLUGD_E_NOT_FOUND', `no installed plugin is named "${nameOrId}"; installed: ${this.#store.list().map((r) => r.manifest.name).join(', ') || '(none)'}`);
  }

  #describe(record: PluginRecord): PluginInfo {
    const name = record.manifest.name;
    return describePlugin(record, this.#stateOf(name), this.#contextOf(name), this.#instances.current(name), this.#instances.logTotals(name), this.#refs.get(name) ?? 0);
  }

  #contextOf(name: string): PluginContext | undefined {
    return this.#actor.getSnapshot().context.plugins[name]?.ref.getSnapshot().context;
  }

  #stateOf(name: string): PluginStateName {
    const ref = this.#actor.getSnapshot().context.plugins[name]?.ref;
    return ref ? pluginStateName(ref.getSnapshot().value) : 'removed';
  }

  #assertNotInUse(name: string, force: boolean | undefined): void {
    const refs = this.#refs.get(name) ?? 0;
    if (refs > 0 && !force) {
      throw new PlugdError('PLUGD_E_IN_USE', `plugin "${name}" is in use (${refs} reference${refs > 1 ? 's' : ''} acquired by the host); release them or pass { force: true }`);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new PlugdError('PLUGD_E_CLOSED', 'the supervisor is closed');
  }
}

/**
 * Opens the store at `options.root`, starts the supervisor and restores the plugins that were
 * enabled. Rejects with PLUGD_E_OPTION naming a bad option.
 *
 * @example
 * const sup = await createSupervisor({ root: '.plugd', watchdogMs: 500 });
 */
export async function createSupervisor(options: SupervisorOptions): Promise<Supervisor> {
  return Supervisor.open(options);
}
