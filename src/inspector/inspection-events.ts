// The messages of the live feed: @statelyai/inspect's event shapes (what createWebSocketInspector
// sends), plus plugd's own overview rows. Shared by the server and the page.

/** `@xstate.actor`: an actor appeared; `definition` is its machine config as JSON text. */
export interface ActorEvent {
  type: '@xstate.actor';
  sessionId: string;
  name: string;
  parentId?: string;
  rootId?: string;
  definition?: string;
  snapshot: { status?: string; value?: unknown; context?: unknown };
  createdAt: string;
}

/** `@xstate.event`: an event was sent to an actor. */
export interface EventEvent {
  type: '@xstate.event';
  sessionId: string;
  sourceId?: string;
  event: { type: string; [key: string]: unknown };
  createdAt: string;
}

/** `@xstate.snapshot`: an actor's new state, with the event that caused it. */
export interface SnapshotEvent {
  type: '@xstate.snapshot';
  sessionId: string;
  snapshot: { status?: string; value?: unknown; context?: unknown; error?: unknown };
  event: { type: string; [key: string]: unknown };
  createdAt: string;
}

export type InspectionMessage = ActorEvent | EventEvent | SnapshotEvent;

/** One plugin as the overview shows it (from GET /v1/plugins). */
export interface PluginRow {
  name: string;
  sessionId: string;
  version: string;
  kind: string;
  state: string;
  /** A lazy plugin waiting in `enabled` for its first call, without an instance. */
  idle: boolean;
  enabled: boolean;
  restarts: number;
  uptimeMs: number | null;
  /** Epoch ms at which `uptimeMs` was read, so the page can count on. */
  seenAt: number;
  lastError: { code: string; message: string } | null;
  requires: string[];
}

/** What the page receives on the feed. */
export type FeedMessage =
  | InspectionMessage
  | { type: 'plugd.plugins'; plugins: PluginRow[] }
  | { type: 'plugd.plugin'; plugin: PluginRow }
  | { type: 'plugd.forget'; sessionId: string }
  | { type: 'plugd.status'; connected: boolean; message: string };

export function isInspectionMessage(value: unknown): value is InspectionMessage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (v.type === '@xstate.actor' || v.type === '@xstate.event' || v.type === '@xstate.snapshot') && typeof v.sessionId === 'string';
}

/** The session of plugd's supervisor machine ("@" is not allowed in a plugin's name, so no plugin's "plugd:<name>"). */
export const SUPERVISOR_SESSION = 'plugd:@supervisor';
