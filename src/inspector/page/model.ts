/// <reference lib="dom" />
// The page's copy of the feed: actors with a bounded timeline, plugin rows, the connection status.
// Messages are applied in batches, one render per animation frame, so 500 plugins stay smooth.
import type { FeedMessage, InspectionMessage, PluginRow } from '../inspection-events.js';

export const TIMELINE_KEEP = 200;

export interface ActorView {
  sessionId: string;
  name: string;
  parentId: string | undefined;
  value: unknown;
  status: string;
  context: unknown;
  timeline: InspectionMessage[];
  /** The active state ids before the last snapshot, for the last transition. */
  previous: unknown;
  lastEvent: { type: string; [key: string]: unknown } | null;
}

export interface Model {
  plugins: Map<string, PluginRow>;
  actors: Map<string, ActorView>;
  connected: boolean;
  status: string;
  version: number;
}

export function emptyModel(): Model {
  return { plugins: new Map(), actors: new Map(), connected: false, status: 'connecting', version: 0 };
}

export function apply(model: Model, message: FeedMessage): void {
  switch (message.type) {
    case 'plugd.plugins':
      model.plugins = new Map(message.plugins.map((p) => [p.name, p]));
      break;
    case 'plugd.plugin':
      model.plugins.set(message.plugin.name, message.plugin);
      break;
    case 'plugd.forget':
      model.actors.delete(message.sessionId);
      break;
    case 'plugd.status':
      model.connected = message.connected;
      model.status = message.message;
      break;
    case '@xstate.actor':
      model.actors.set(message.sessionId, {
        sessionId: message.sessionId,
        name: message.name,
        parentId: message.parentId,
        value: message.snapshot.value,
        status: message.snapshot.status ?? 'active',
        context: message.snapshot.context,
        timeline: [],
        previous: undefined,
        lastEvent: null,
      });
      break;
    case '@xstate.event':
    case '@xstate.snapshot': {
      const actor = model.actors.get(message.sessionId);
      if (!actor) break;
      actor.timeline.push(message);
      if (actor.timeline.length > TIMELINE_KEEP) actor.timeline.splice(0, actor.timeline.length - TIMELINE_KEEP);
      if (message.type === '@xstate.snapshot') {
        actor.previous = actor.value;
        actor.value = message.snapshot.value;
        actor.status = message.snapshot.status ?? actor.status;
        actor.context = message.snapshot.context;
        actor.lastEvent = message.event;
      }
      break;
    }
  }
  model.version += 1;
}

/** Follows /feed; `onChange` runs at most once per animation frame. */
export function connect(model: Model, onChange: () => void): EventSource {
  const source = new EventSource('feed');
  let queued: FeedMessage[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const batch = queued;
    queued = [];
    for (const message of batch) apply(model, message);
    onChange();
  };
  source.onmessage = (e) => {
    queued.push(JSON.parse(e.data as string) as FeedMessage);
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(flush);
    }
  };
  source.onopen = () => {
    // A reconnect replays everything: start from an empty copy.
    const fresh = emptyModel();
    Object.assign(model, fresh, { version: model.version + 1, connected: true, status: 'connected' });
    onChange();
  };
  source.onerror = () => {
    model.connected = false;
    model.status = 'disconnected; retrying';
    onChange();
  };
  return source;
}

/** The state ids active for a state value under the machine's root id. */
export function activeIds(rootId: string, value: unknown): Set<string> {
  const ids = new Set<string>();
  const walk = (prefix: string, v: unknown) => {
    if (typeof v === 'string') ids.add(`${prefix}.${v}`);
    else if (typeof v === 'object' && v !== null) {
      for (const [key, child] of Object.entries(v)) {
        ids.add(`${prefix}.${key}`);
        walk(`${prefix}.${key}`, child);
      }
    }
  };
  walk(rootId, value);
  return ids;
}
