// The supervisor machine as the runtime runs it: the pure machines given their actors (the
// instance actor over the host's Instances) and the restart delay's jitter; the running actor,
// what it is told and the promises that wait on what it reports.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { createActor, waitFor, type Actor, type ActorRefFrom } from 'xstate';
import { pluginMachine, pluginStateOf, type PluginContext, type PluginEvent } from '../../machines/plugin.machine.js';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import type { PluginStateName, PluginTag } from '../../machines/types.js';
import { createInstanceActor, type InstanceHost } from '../isolation/instance-actor.js';
import type { ResolvedOptions } from '../options.js';
import { logStateEvent, toStateEvent, type StateEvent } from './state-event.js';
import { StateWaiters } from './state-waiters.js';
import type { PluginRecord } from '../store/store.js';
import { PlugdError } from '../errors.js';

export type PluginActorRef = ActorRefFrom<typeof pluginMachine>;

export function runtimeSupervisorMachine(host: InstanceHost, options: ResolvedOptions) {
  const jitter = options.restartJitter;
  const plugin = pluginMachine.provide({
    actors: { instance: createInstanceActor(host) },
    // The machine stays pure: the runtime brings the randomness.
    delays: { restartDelay: ({ context }) => Math.round(context.restartDelayMs * (1 + jitter * Math.random())) },
  });
  return supervisorMachine.provide({ actors: { plugin } });
}

/** The event that spawns a plugin actor for `record`, with the supervisor's timing options. */
export function addPluginEvent(record: PluginRecord, options: ResolvedOptions) {
  const { manifest } = record;
  return {
    type: 'ADD' as const,
    requires: manifest.requires,
    plugin: {
      name: manifest.name,
      id: record.id,
      interfaceTypes: manifest.interface.types,
      restart: { ...manifest.restart, backoff: options.restart.backoff, intensity: options.restart.intensity },
      activationTimeoutMs: options.activationTimeoutMs,
      stopTimeoutMs: options.stopTimeoutMs,
      ...(manifest.activation ? { activation: manifest.activation } : {}),
      ...(manifest.idleTimeoutMs !== undefined ? { idleTimeoutMs: manifest.idleTimeoutMs } : {}),
    },
  };
}

/**
 * The running supervisor actor: records are added to it, plugins are told to ENABLE, DISABLE or
 * REMOVE, and each state change it reports becomes a StateEvent for waiters and listeners.
 */
export class PluginActors {
  readonly #actor: Actor<typeof supervisorMachine>;
  readonly #waiters = new StateWaiters((name) => this.stateOf(name));
  readonly #events = new EventEmitter();
  readonly #options: ResolvedOptions;

  /** `afterChange` runs once waiters and listeners have seen a change (activation handlers). */
  constructor(
    host: InstanceHost,
    options: ResolvedOptions,
    log: Logger,
    afterChange: (event: StateEvent, context: PluginContext | undefined) => void,
  ) {
    this.#options = options;
    this.#actor = createActor(runtimeSupervisorMachine(host, options), options.inspect ? { inspect: options.inspect } : {});
    this.#actor.on('state', (change) => {
      const context = this.contextOf(change.name);
      const event = toStateEvent(change);
      logStateEvent(log, event, context?.instance ?? 0);
      this.#waiters.notify(event);
      this.#events.emit('state', event);
      afterChange(event, context);
    });
    this.#actor.start();
  }

  /** Spawns the plugin's actor and returns it. */
  add(record: PluginRecord): PluginActorRef {
    const { name } = record.manifest;
    this.#actor.send(addPluginEvent(record, this.#options));
    const ref = this.#ref(name)!;
    if (record.manifest.activation === 'lazy') {
      // Idle is a sub-state of `enabled`: no state report says it, so its waiters are told here,
      // once the transition that entered it has settled.
      let idle = false;
      ref.subscribe((snapshot) => {
        const entered = snapshot.hasTag('idle') && !idle;
        idle = snapshot.hasTag('idle');
        if (!entered) return;
        queueMicrotask(() => {
          this.#waiters.notify({ name, from: 'enabled', to: 'enabled', at: Date.now(), error: null, restarts: snapshot.context.restarts });
        });
      });
    }
    return ref;
  }

  /**
   * For a lazy plugin, resolves once it runs: an idle one is activated (once, however many calls
   * ask), a stopping one first finishes its stop, an activating or restarting one is waited for.
   * Rejects with the activation's error if it fails, PLUGD_E_NOT_RUNNING if it is not enabled.
   * Undefined for an eager plugin: its calls never wait.
   */
  activate(name: string): Promise<void> | undefined {
    if (this.contextOf(name)?.activation !== 'lazy') return undefined;
    return this.#untilRunning(name);
  }

  async #untilRunning(name: string): Promise<void> {
    // A level, not an edge: each turn looks at the state the plugin is in now.
    for (;;) {
      if (this.hasTag(name, 'running')) return;
      if (this.hasTag(name, 'idle')) {
        // What it requires is watched too: a dependency failing meanwhile rejects the call
        // (PLUGD_E_DEPENDENCY) rather than leave it waiting while the plugin is suspended.
        const requires = this.#actor.getSnapshot().context.plugins.get(name)?.requires ?? [];
        const down = requires.find((dep) => !this.hasTag(dep, 'running'));
        if (down)
          throw new PlugdError('PLUGD_E_DEPENDENCY', `plugin "${name}" cannot run now: its dependency "${down}" is ${this.stateOf(down)}`);
        const running = this.#waiters.whenRunning(name, [name, ...requires]);
        this.#ref(name)!.send({ type: 'ACTIVATE' });
        return running;
      }
      if (this.hasTag(name, 'activating') || this.hasTag(name, 'restarting')) return this.#waiters.whenRunning(name, [name]);
      if (!this.hasTag(name, 'stopping')) {
        throw new PlugdError('PLUGD_E_NOT_RUNNING', `plugin "${name}" is ${this.stateOf(name)}; enable it before calling it`);
      }
      await this.#waiters.whenState(name, (s) => s !== 'stopping');
    }
  }

  /**
   * Tells a lazy plugin with an idle timeout that a call starts, and returns what tells it the
   * call ended: its idle timer runs only while no call is in flight. Undefined for other plugins.
   */
  callStarted(name: string): (() => void) | undefined {
    const ref = this.#ref(name);
    const context = ref?.getSnapshot().context;
    if (!ref || context?.activation !== 'lazy' || context.idleTimeoutMs === undefined) return undefined;
    ref.send({ type: 'CALL_STARTED' });
    return () => {
      if (ref.getSnapshot().status === 'active') ref.send({ type: 'CALL_ENDED' });
    };
  }

  enable(name: string): void {
    this.#actor.send({ type: 'ENABLE', name });
  }

  /**
   * Resolves once none of `names` is stopping (undefined if none is): an enable that comes while a
   * plugin stops lets the stop finish (and the disable that asked for it resolve), then runs it.
   */
  afterStops(names: string[]): Promise<unknown> | undefined {
    const stopping = names.filter((n) => this.hasTag(n, 'stopping'));
    if (stopping.length === 0) return undefined;
    return Promise.all(stopping.map((n) => this.#waiters.whenState(n, (s) => s !== 'stopping')));
  }

  /** Tells the plugin to stop and resolves once it is disabled. */
  disable(name: string): Promise<void> {
    const stopped = this.#waiters.whenState(name, (s) => s === 'disabled');
    this.#actor.send({ type: 'DISABLE', name });
    return stopped;
  }

  /** Tells the plugin (at rest) to go and resolves once its actor is gone. */
  remove(name: string): Promise<void> {
    const removed = this.#waiters.whenState(name, (s) => s === 'removed');
    this.#actor.send({ type: 'REMOVE', name });
    return removed;
  }

  /**
   * See StateWaiters.whenRunning: made before the ENABLE events it waits on are sent. A lazy
   * plugin is ready once it is enabled and idle.
   */
  whenRunning(name: string, order: string[]): Promise<void> {
    return this.#waiters.whenRunning(name, order, (n) => this.hasTag(n, 'idle'));
  }

  contextOf(name: string): PluginContext | undefined {
    return this.#ref(name)?.getSnapshot().context;
  }

  /** Whether `name`'s state carries `tag` (a plugin without an actor is `removed`, at rest). */
  hasTag(name: string, tag: PluginTag): boolean {
    const ref = this.#ref(name);
    return ref ? ref.getSnapshot().hasTag(tag) : tag === 'removed' || tag === 'atRest';
  }

  /** Whether `name`'s machine takes `event` in its present state. */
  can(name: string, event: PluginEvent): boolean {
    return this.#ref(name)?.getSnapshot().can(event) ?? false;
  }

  stateOf(name: string): PluginStateName {
    const ref = this.#ref(name);
    return ref ? pluginStateOf(ref.getSnapshot()) : 'removed';
  }

  #ref(name: string) {
    return this.#actor.getSnapshot().context.plugins.get(name)?.ref;
  }

  on(listener: (event: StateEvent) => void): void {
    this.#events.on('state', listener);
  }

  off(listener: (event: StateEvent) => void): void {
    this.#events.off('state', listener);
  }

  /** Stops every plugin in reverse dependency order; false if they did not within `boundMs`. */
  async close(boundMs: number): Promise<boolean> {
    this.#waiters.close();
    this.#actor.send({ type: 'CLOSE' });
    try {
      await waitFor(this.#actor, (s) => s.status === 'done', { timeout: boundMs });
      return true;
    } catch {
      return false;
    } finally {
      this.#actor.stop();
    }
  }
}
