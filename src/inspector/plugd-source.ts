// Feeds the actor store from a plugd control API: the plugin list, then the followed state events,
// each turned into @statelyai/inspect's shapes (one plugin actor and its restart-policy actor).
import { pluginMachine } from '../../machines/plugin.machine.js';
import { restartPolicyMachine } from '../../machines/restart-policy.machine.js';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import type { ApiClient } from '../cli/api-client.js';
import type { PluginInfo } from '../runtime/plugin-info.js';
import type { StateEvent } from '../runtime/state-event.js';
import type { ActorStore } from './actor-store.js';
import { SUPERVISOR_SESSION, type PluginRow } from './inspection-events.js';

const PLUGIN_DEFINITION = JSON.stringify(pluginMachine.config);
const POLICY_DEFINITION = JSON.stringify(restartPolicyMachine.config);
const SUPERVISOR_DEFINITION = JSON.stringify(supervisorMachine.config);
const RECONNECT_MS = 1000;
const REFRESH_MS = 250;

export const pluginSession = (name: string): string => `plugd:${name}`;
export const policySession = (name: string): string => `plugd:${name}:policy`;

function rowOf(info: PluginInfo, now: number): PluginRow {
  return {
    name: info.name,
    sessionId: pluginSession(info.name),
    version: info.version,
    kind: info.kind,
    state: info.state,
    idle: info.idle,
    enabled: info.enabled,
    restarts: info.restarts,
    uptimeMs: info.instance?.uptimeMs ?? null,
    seenAt: now,
    lastError: info.lastError && { code: info.lastError.code, message: info.lastError.message },
    requires: info.requires,
  };
}

function pluginContext(row: PluginRow): Record<string, unknown> {
  return {
    name: row.name,
    version: row.version,
    kind: row.kind,
    enabled: row.enabled,
    restarts: row.restarts,
    lastError: row.lastError,
    requires: row.requires,
  };
}

/** The plugin machine's state value: idle is the `enabled.idle` sub-state of a lazy plugin. */
const stateValue = (row: PluginRow): string | Record<string, string> => (row.idle ? { enabled: 'idle' } : row.state);

/** Follows one control API into `store` until `close()`. */
export class PlugdSource {
  readonly #api: ApiClient;
  readonly #store: ActorStore;
  readonly #stop = new AbortController();
  #known = new Map<string, PluginRow>();
  #retry: NodeJS.Timeout | null = null;
  #refresh: NodeJS.Timeout | null = null;
  #refreshing = false;
  /** A refresh was asked for while one ran: the list read may predate the change. */
  #again = false;
  #running: Promise<void> | null = null;

  constructor(api: ApiClient, store: ActorStore) {
    this.#api = api;
    this.#store = store;
  }

  /** Connects; resolves once the first plugin list is in the store (rejects if the API is unreachable). */
  async start(): Promise<void> {
    const since = Date.now();
    await this.#list();
    this.#supervisor(true);
    this.#running = this.#follow(since);
  }

  async #follow(since: number): Promise<void> {
    try {
      this.#store.status(true, 'connected');
      await this.#api.feed(`/v1/events?follow=1&since=${since}`, (line) => this.#onEvent(line), this.#stop.signal);
    } catch (e) {
      this.#store.status(false, (e as Error).message);
    }
    if (this.#stop.signal.aborted) return;
    this.#supervisor(false);
    this.#store.status(false, 'the control API ended the event feed; reconnecting');
    this.#retry = setTimeout(() => {
      this.#retry = null;
      const at = Date.now();
      this.#list().then(
        () => {
          this.#supervisor(true);
          this.#running = this.#follow(at);
        },
        () => {
          this.#running = this.#follow(at);
        },
      );
    }, RECONNECT_MS);
  }

  async #list(): Promise<void> {
    const infos = await this.#api.request<PluginInfo[]>('GET', '/v1/plugins');
    const now = Date.now();
    const next = new Map<string, PluginRow>();
    for (const info of infos) {
      const row = rowOf(info, now);
      next.set(row.name, row);
      const before = this.#known.get(row.name);
      if (!before) this.#announce(row, info);
      else if (before.state !== row.state || before.idle !== row.idle) this.#snapshot(row, { type: 'plugd.refresh' });
    }
    for (const name of this.#known.keys()) {
      if (!next.has(name)) {
        this.#store.forget(policySession(name));
        this.#store.forget(pluginSession(name));
      }
    }
    this.#known = next;
    this.#store.setPlugins([...next.values()]);
  }

  /**
   * The supervisor's machine: the control API answers only while it is "open" (a closing
   * supervisor ends its API first), so a live feed means "open"; a lost one leaves the last
   * known state, marked unreachable.
   */
  #supervisor(connected: boolean): void {
    const createdAt = String(Date.now());
    const snapshot = { status: 'active', value: 'open', context: { plugins: this.#known.size, reachable: connected } };
    if (connected)
      this.#store.add({
        type: '@xstate.actor',
        sessionId: SUPERVISOR_SESSION,
        name: 'supervisor',
        definition: SUPERVISOR_DEFINITION,
        snapshot,
        createdAt,
      });
    else
      this.#store.add({
        type: '@xstate.snapshot',
        sessionId: SUPERVISOR_SESSION,
        snapshot,
        event: { type: 'plugd.disconnected' },
        createdAt,
      });
  }

  #announce(row: PluginRow, info: PluginInfo): void {
    const createdAt = String(Date.now());
    this.#store.add({
      type: '@xstate.actor',
      sessionId: row.sessionId,
      name: row.name,
      definition: PLUGIN_DEFINITION,
      snapshot: { status: 'active', value: stateValue(row), context: pluginContext(row) },
      createdAt,
    });
    this.#store.add({
      type: '@xstate.actor',
      sessionId: policySession(row.name),
      parentId: row.sessionId,
      name: `${row.name} restart policy`,
      definition: POLICY_DEFINITION,
      snapshot: {
        status: 'active',
        value: info.gaveUp ? 'gaveUp' : 'watching',
        context: { policy: info.restartPolicy, gaveUp: info.gaveUp },
      },
      createdAt,
    });
  }

  #snapshot(row: PluginRow, event: { type: string; [key: string]: unknown }): void {
    this.#store.add({
      type: '@xstate.snapshot',
      sessionId: row.sessionId,
      snapshot: { status: row.state === 'removed' ? 'done' : 'active', value: stateValue(row), context: pluginContext(row) },
      event,
      createdAt: String(Date.now()),
    });
  }

  #onEvent(line: Record<string, unknown>): void {
    if (typeof line.name !== 'string' || typeof line.to !== 'string') return; // a "lines dropped" note
    const event = line as unknown as StateEvent;
    const row = this.#known.get(event.name);
    if (!row) {
      this.#scheduleRefresh();
      return;
    }
    const next: PluginRow = {
      ...row,
      state: event.to,
      idle: false,
      restarts: event.restarts,
      lastError: event.error ? { code: event.error.code, message: event.error.message } : row.lastError,
      uptimeMs: event.to === 'running' ? 0 : row.state === 'running' ? null : row.uptimeMs,
      seenAt: event.at,
    };
    this.#known.set(event.name, next);
    const cause = {
      type: 'plugd.state',
      from: event.from,
      to: event.to,
      ...(event.error ? { error: { code: event.error.code, message: event.error.message } } : {}),
    };
    this.#store.add({ type: '@xstate.event', sessionId: row.sessionId, event: cause, createdAt: String(event.at) });
    this.#snapshot(next, cause);
    this.#store.setPlugin(next);
    if (event.error && event.to === 'disabled') {
      this.#store.add({
        type: '@xstate.snapshot',
        sessionId: policySession(event.name),
        snapshot: { status: 'active', value: 'gaveUp', context: { gaveUp: event.error.message } },
        event: { type: 'EXITED' },
        createdAt: String(event.at),
      });
    } else if (event.to === 'enabled') {
      this.#store.add({
        type: '@xstate.snapshot',
        sessionId: policySession(event.name),
        snapshot: { status: 'active', value: 'watching', context: {} },
        event: { type: 'RESET' },
        createdAt: String(event.at),
      });
    }
    if (event.to === 'removed' || event.to === 'enabled' || event.to === 'disabled') this.#scheduleRefresh();
  }

  #scheduleRefresh(): void {
    if (this.#refreshing) this.#again = true;
    if (this.#refresh || this.#refreshing || this.#stop.signal.aborted) return;
    this.#refresh = setTimeout(() => {
      this.#refresh = null;
      this.#refreshing = true;
      this.#list()
        .catch(() => undefined)
        .finally(() => {
          this.#refreshing = false;
          if (this.#again) {
            this.#again = false;
            this.#scheduleRefresh();
          }
        });
    }, REFRESH_MS);
  }

  async close(): Promise<void> {
    this.#stop.abort();
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#refresh) clearTimeout(this.#refresh);
    await this.#running;
  }
}
