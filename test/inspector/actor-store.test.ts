import { describe, expect, it } from 'vitest';
import { ActorStore } from '../../src/inspector/actor-store.js';
import type { FeedMessage } from '../../src/inspector/inspection-events.js';

const actor = (sessionId: string, context: unknown = {}) => ({
  type: '@xstate.actor' as const,
  sessionId,
  name: sessionId,
  snapshot: { status: 'active', value: 'a', context },
  createdAt: '0',
});
const snapshot = (sessionId: string, status = 'active', value = 'b') => ({
  type: '@xstate.snapshot' as const,
  sessionId,
  snapshot: { status, value },
  event: { type: 'GO' },
  createdAt: '0',
});

describe("the inspector's memory of actors", () => {
  it('keeps a bounded timeline per actor', () => {
    const store = new ActorStore({ eventsPerActor: 5 });
    store.add(actor('x'));
    for (let i = 0; i < 50; i++) store.add(snapshot('x', 'active', `s${i}`));
    expect(store.actor('x')!.timeline).toHaveLength(5);
    expect(store.actor('x')!.actor.snapshot.value).toBe('s49');
  });

  it('keeps only the newest finished actors, and tells the pages which it forgot', () => {
    const store = new ActorStore({ finishedActors: 2 });
    const seen: FeedMessage[] = [];
    store.subscribe((m) => seen.push(m));
    for (const id of ['a', 'b', 'c']) {
      store.add(actor(id));
      store.add(snapshot(id, 'done'));
    }
    store.add(actor('live'));
    expect([store.actor('a'), store.actor('b'), store.actor('c'), store.actor('live')].map(Boolean)).toEqual([false, true, true, true]);
    expect(seen).toContainEqual({ type: 'plugd.forget', sessionId: 'a' });
  });

  it('shows env and secrets by key only', () => {
    const store = new ActorStore();
    store.add(
      actor('x', {
        env: ['API_KEY=hunter2'],
        nested: { token: 'abc', password: 'pw', ok: 1 },
        settings: { environment: { HOME: '/root' } },
      }),
    );
    const text = JSON.stringify(store.actor('x')!.actor.snapshot.context);
    expect(text).not.toMatch(/hunter2|abc|"pw"|\/root/);
    expect(text).toContain('API_KEY=…');
    expect(text).toContain('"ok":1');
  });

  it('ignores events of actors it never saw announced', () => {
    const store = new ActorStore();
    store.add(snapshot('ghost'));
    expect(store.size).toBe(0);
  });
});
