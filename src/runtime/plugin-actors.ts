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
  constructor(host: InstanceHost, options: ResolvedOptions, log: Logger, afterChange: (event: StateEvent, context: PluginContext | undefined) => void) {
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
    this.#actor.send(addPluginEvent(record, this.#options));
    return this.#ref(record.manifest.name)!;
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

  /** See StateWaiters.whenRunning: made before the ENABLE events it waits on are sent. */
  whenRunning(name: string, order: string[]): Promise<void> {
    return this.#waiters.whenRunning(name, order);
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
