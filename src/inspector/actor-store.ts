// The inspector's memory of actors: latest snapshot and a bounded timeline per actor, a bounded
// number of finished actors, and the subscribers of the live feed.
import type { FeedMessage, InspectionMessage, PluginRow } from './inspection-events.js';
import { sanitize } from './sanitize.js';

export interface RetentionOptions {
  /** Timeline entries kept per actor. Default 200. */
  eventsPerActor?: number;
  /** Actors whose status is no longer active, kept for viewing. Default 100. */
  finishedActors?: number;
}

interface ActorRecord {
  actor: InspectionMessage & { type: '@xstate.actor' };
  timeline: InspectionMessage[];
  finished: boolean;
}

function sanitized(message: InspectionMessage): InspectionMessage {
  if (message.type === '@xstate.event') return message;
  return { ...message, snapshot: { ...message.snapshot, context: sanitize(message.snapshot.context) } } as InspectionMessage;
}

export class ActorStore {
  readonly #eventsPerActor: number;
  readonly #finishedActors: number;
  readonly #actors = new Map<string, ActorRecord>();
  readonly #finished: string[] = [];
  readonly #plugins = new Map<string, PluginRow>();
  readonly #subscribers = new Set<(message: FeedMessage) => void>();

  constructor(options: RetentionOptions = {}) {
    this.#eventsPerActor = options.eventsPerActor ?? 200;
    this.#finishedActors = options.finishedActors ?? 100;
  }

  /** Takes one @statelyai/inspect event (from plugd or from an outside app). */
  add(input: InspectionMessage): void {
    const message = sanitized(input);
    if (message.type === '@xstate.actor') {
      this.#actors.set(message.sessionId, { actor: message, timeline: [], finished: false });
    } else {
      const record = this.#actors.get(message.sessionId);
      if (!record) return; // events of an actor never announced: nothing to draw them on
      record.timeline.push(message);
      if (record.timeline.length > this.#eventsPerActor) record.timeline.splice(0, record.timeline.length - this.#eventsPerActor);
      if (message.type === '@xstate.snapshot') {
        record.actor = { ...record.actor, snapshot: message.snapshot };
        if (message.snapshot.status && message.snapshot.status !== 'active' && !record.finished) this.#finish(message.sessionId, record);
      }
    }
    this.#publish(message);
  }

  #finish(sessionId: string, record: ActorRecord): void {
    record.finished = true;
    this.#finished.push(sessionId);
    while (this.#finished.length > this.#finishedActors) {
      const old = this.#finished.shift()!;
      this.#actors.delete(old);
      this.#publish({ type: 'plugd.forget', sessionId: old });
    }
  }

  /** Forgets an actor (a removed plugin). */
  forget(sessionId: string): void {
    if (this.#actors.delete(sessionId)) this.#publish({ type: 'plugd.forget', sessionId });
  }

  setPlugins(rows: PluginRow[]): void {
    this.#plugins.clear();
    for (const row of rows) this.#plugins.set(row.name, row);
    this.#publish({ type: 'plugd.plugins', plugins: rows });
  }

  setPlugin(row: PluginRow): void {
    this.#plugins.set(row.name, row);
    this.#publish({ type: 'plugd.plugin', plugin: row });
  }

  plugin(name: string): PluginRow | undefined {
    return this.#plugins.get(name);
  }

  actor(sessionId: string): ActorRecord | undefined {
    return this.#actors.get(sessionId);
  }

  get size(): number {
    return this.#actors.size;
  }

  /** Everything a new page needs, then live messages; returns the unsubscribe. */
  subscribe(send: (message: FeedMessage) => void): () => void {
    send({ type: 'plugd.plugins', plugins: [...this.#plugins.values()] });
    for (const record of this.#actors.values()) {
      send(record.actor);
      for (const entry of record.timeline) send(entry);
    }
    this.#subscribers.add(send);
    return () => this.#subscribers.delete(send);
  }

  status(connected: boolean, message: string): void {
    this.#publish({ type: 'plugd.status', connected, message });
  }

  #publish(message: FeedMessage): void {
    for (const send of this.#subscribers) send(message);
  }
}
