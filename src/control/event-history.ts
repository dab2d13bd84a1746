// The recent plugin state events, kept for `GET /v1/events?since=` and fanned out to followers.
import type { StateEvent } from '../runtime/state-event.js';

export class EventHistory {
  readonly #keep: number;
  #events: StateEvent[] = [];
  readonly #followers = new Set<(event: StateEvent) => void>();

  constructor(keep = 1000) {
    this.#keep = keep;
  }

  /** The listener to hand to `sup.on('state')`. */
  readonly record = (event: StateEvent): void => {
    this.#events.push(event);
    if (this.#events.length > this.#keep * 2) this.#events = this.#events.slice(-this.#keep);
    for (const follower of this.#followers) follower(event);
  };

  since(at: number): StateEvent[] {
    return this.#events.filter((e) => e.at >= at).slice(-this.#keep);
  }

  /** The kept events of one plugin, oldest first. */
  of(name: string): StateEvent[] {
    return this.#events.filter((e) => e.name === name);
  }

  /** Calls `follower` on every event from now on; returns the unsubscribe. */
  follow(follower: (event: StateEvent) => void): () => void {
    this.#followers.add(follower);
    return () => this.#followers.delete(follower);
  }
}
