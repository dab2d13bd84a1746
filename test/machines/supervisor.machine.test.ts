import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { findCycle, withDependencies } from '../../machines/dependency-graph.js';
import { pluginMachine } from '../../machines/plugin.machine.js';
import { supervisorMachine, type StateChange } from '../../machines/supervisor.machine.js';
import { fakeInstances, type FakeInstance } from './fake-instance.js';

/** Plugins by name; as entries when a name (`__proto__`) cannot be an object literal's key. */
function startSupervisor(plugins: Record<string, string[]> | [string, string[]][], lazy: Record<string, { idleTimeoutMs?: number }> = {}) {
  const fakes = fakeInstances();
  const clock = new SimulatedClock();
  const machine = supervisorMachine.provide({
    actors: { plugin: pluginMachine.provide({ actors: { instance: fakes.actor } }) },
  });
  const actor = createActor(machine, { clock }).start();
  const changes: StateChange[] = [];
  actor.on('state', (e) => changes.push(e));
  for (const [name, requires] of Array.isArray(plugins) ? plugins : Object.entries(plugins)) {
    actor.send({
      type: 'ADD',
      requires,
      plugin: {
        name,
        id: name,
        interfaceTypes: ['T'],
        restart: { policy: 'always' },
        activationTimeoutMs: 1000,
        stopTimeoutMs: 1000,
        ...(Object.hasOwn(lazy, name) ? { activation: 'lazy' as const, ...lazy[name] } : {}),
      },
    });
  }
  const instanceOf = (name: string): FakeInstance => {
    const inst = fakes.started.filter((f) => f.input.name === name).at(-1);
    if (!inst) throw new Error(`${name} has no instance`);
    return inst;
  };
  const stateOf = (name: string) => actor.getSnapshot().context.plugins.get(name)?.state;
  const transitions = (to: string) => changes.filter((c) => c.to === to).map((c) => c.name);
  return { actor, clock, fakes, changes, instanceOf, stateOf, transitions };
}

describe('activation order', () => {
  it('starts a plugin only after every plugin it requires is running', () => {
    const { actor, instanceOf, stateOf, fakes } = startSupervisor({ app: ['db', 'cache'], db: [], cache: ['db'] });
    for (const name of ['app', 'db', 'cache']) actor.send({ type: 'ENABLE', name });
    expect(fakes.started.map((f) => f.input.name)).toEqual(['db']);
    expect(stateOf('app')).toBe('enabled');
    instanceOf('db').handshake(['T']);
    expect(fakes.started.map((f) => f.input.name)).toEqual(['db', 'cache']);
    instanceOf('cache').handshake(['T']);
    instanceOf('app').handshake(['T']);
    expect(['app', 'db', 'cache'].map(stateOf)).toEqual(['running', 'running', 'running']);
  });

  it('emits every state change with its from and to', () => {
    const { actor, changes } = startSupervisor({ a: [] });
    actor.send({ type: 'ENABLE', name: 'a' });
    expect(changes).toEqual([
      { type: 'state', name: 'a', from: null, to: 'installed', error: null, restarts: 0 },
      { type: 'state', name: 'a', from: 'installed', to: 'enabled', error: null, restarts: 0 },
      { type: 'state', name: 'a', from: 'enabled', to: 'activating', error: null, restarts: 0 },
    ]);
  });

  it('carries the error that caused a change, as the plugin reported it: a failure, not a stop', () => {
    const { actor, changes, instanceOf, clock } = startSupervisor({ a: [] });
    actor.send({ type: 'ENABLE', name: 'a' });
    const error = { code: 'PLUGD_E_PLUGIN_ERROR', message: 'boom' };
    instanceOf('a').exit({ reason: 'crash', code: 1, error });
    expect(changes.at(-1)).toMatchObject({ from: 'activating', to: 'restarting', error, restarts: 0 });
    clock.increment(100);
    expect(changes.at(-1)).toMatchObject({ to: 'activating', error: null, restarts: 1 });
    instanceOf('a').handshake(['T']);
    actor.send({ type: 'DISABLE', name: 'a' });
    expect(changes.slice(-2)).toMatchObject([
      { to: 'stopping', error: null },
      { to: 'disabled', error: null },
    ]);
  });
});

describe('lazy dependencies', () => {
  it('activates an idle lazy plugin that a starting plugin requires, and keeps it from idling while that one is enabled', () => {
    const { actor, clock, fakes, instanceOf, stateOf } = startSupervisor({ db: [], app: ['db'] }, { db: { idleTimeoutMs: 500 } });
    const db = () => actor.getSnapshot().context.plugins.get('db')!;
    actor.send({ type: 'ENABLE', name: 'db' });
    expect(db()).toMatchObject({ state: 'enabled', idle: true, pinned: false });
    expect(fakes.started).toEqual([]);

    actor.send({ type: 'ENABLE', name: 'app' });
    expect(db()).toMatchObject({ state: 'activating', idle: false, pinned: true });
    instanceOf('db').handshake(['T']);
    instanceOf('app').handshake(['T']);
    expect([stateOf('db'), stateOf('app')]).toEqual(['running', 'running']);
    clock.increment(2_000);
    expect(stateOf('db')).toBe('running');

    actor.send({ type: 'DISABLE', name: 'app' });
    expect(stateOf('app')).toBe('disabled');
    expect(db()).toMatchObject({ state: 'running', pinned: false });
    clock.increment(500);
    expect(db()).toMatchObject({ state: 'enabled', idle: true, pinned: false });
  });

  it('starts the dependency again when it idles while its dependent waits to start', () => {
    const { actor, clock, fakes, instanceOf, stateOf } = startSupervisor({ db: [], app: ['db'] }, { db: { idleTimeoutMs: 500 } });
    actor.send({ type: 'ENABLE', name: 'db' });
    actor.getSnapshot().context.plugins.get('db')!.ref.send({ type: 'ACTIVATE' });
    instanceOf('db').handshake(['T']);
    clock.increment(500);
    expect(stateOf('db')).toBe('enabled');
    expect(fakes.started.map((f) => f.input.name)).toEqual(['db']);
    // Enabled while db idles: app waits in `enabled`, and db is started for it.
    actor.send({ type: 'ENABLE', name: 'app' });
    expect(stateOf('app')).toBe('enabled');
    expect(fakes.started.map((f) => f.input.name)).toEqual(['db', 'db']);
    instanceOf('db').handshake(['T']);
    expect(stateOf('app')).toBe('activating');
  });
});

describe('rest_for_one', () => {
  function runningChain() {
    const s = startSupervisor({ a: [], b: ['a'], c: ['b'] });
    for (const name of ['a', 'b', 'c']) s.actor.send({ type: 'ENABLE', name });
    s.instanceOf('a').handshake(['T']);
    s.instanceOf('b').handshake(['T']);
    s.instanceOf('c').handshake(['T']);
    s.changes.length = 0;
    return s;
  }

  it('stops dependents leaves-first when a dependency crashes, and starts them again after it', () => {
    const { instanceOf, stateOf, clock, transitions } = runningChain();
    instanceOf('a').exit({ reason: 'crash' });
    expect(transitions('stopping')).toEqual(['c', 'b']);
    expect(['a', 'b', 'c'].map(stateOf)).toEqual(['restarting', 'enabled', 'enabled']);
    clock.increment(100);
    instanceOf('a').handshake(['T']);
    instanceOf('b').handshake(['T']);
    instanceOf('c').handshake(['T']);
    expect(['a', 'b', 'c'].map(stateOf)).toEqual(['running', 'running', 'running']);
  });

  it('a DISABLE of a dependency waits for its dependents to stop first', () => {
    const { actor, stateOf, transitions } = runningChain();
    actor.send({ type: 'DISABLE', name: 'a' });
    expect(transitions('stopping')).toEqual(['c', 'b', 'a']);
    expect(['a', 'b', 'c'].map(stateOf)).toEqual(['disabled', 'enabled', 'enabled']);
  });

  it('CLOSE stops everything in reverse dependency order and ends the supervisor', () => {
    const { actor, transitions, stateOf } = runningChain();
    actor.send({ type: 'CLOSE' });
    expect(transitions('disabled')).toEqual(['c', 'b', 'a']);
    expect(['a', 'b', 'c'].map(stateOf)).toEqual(['disabled', 'disabled', 'disabled']);
    expect(actor.getSnapshot().status).toBe('done');
  });
});

describe('removal', () => {
  it('drops a removed plugin from the supervisor', () => {
    const { actor } = startSupervisor({ a: [] });
    actor.send({ type: 'REMOVE', name: 'a' });
    expect(actor.getSnapshot().context.plugins.size).toBe(0);
  });
});

describe('names that are members of Object.prototype', () => {
  const NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

  it.each(NAMES)('%s runs, is required, stops in order and is removed like any other name', (name) => {
    const { actor, instanceOf, stateOf, transitions } = startSupervisor([
      [name, []],
      ['app', [name]],
    ]);
    actor.send({ type: 'ENABLE', name: 'app' });
    actor.send({ type: 'ENABLE', name });
    instanceOf(name).handshake(['T']);
    instanceOf('app').handshake(['T']);
    expect([name, 'app'].map(stateOf)).toEqual(['running', 'running']);
    actor.send({ type: 'DISABLE', name });
    expect(stateOf('app')).toBe('enabled'); // suspended: its dependency is gone
    actor.send({ type: 'DISABLE', name: 'app' });
    expect(transitions('disabled')).toEqual([name, 'app']);
    actor.send({ type: 'REMOVE', name });
    actor.send({ type: 'REMOVE', name: 'app' });
    expect(actor.getSnapshot().context.plugins.size).toBe(0);
    expect(actor.getSnapshot().status).toBe('active');
  });

  it.each(NAMES)('a plugin requiring %s, which is not installed, waits in enabled and is removed', (name) => {
    const { actor, stateOf, fakes } = startSupervisor([['app', [name]]]);
    actor.send({ type: 'ENABLE', name: 'app' });
    expect(stateOf('app')).toBe('enabled');
    expect(fakes.started).toEqual([]);
    actor.send({ type: 'DISABLE', name: 'app' });
    actor.send({ type: 'REMOVE', name: 'app' });
    expect(actor.getSnapshot().context.plugins.size).toBe(0);
    expect(actor.getSnapshot().status).toBe('active');
  });
});

describe('dependency graph', () => {
  it('names a cycle as a path', () => {
    expect(
      findCycle(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual(['a', 'b', 'c', 'a']);
    expect(
      findCycle(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toBeNull();
  });

  it('lists a plugin after everything it requires', () => {
    expect(
      withDependencies(
        new Map([
          ['app', ['db', 'cache']],
          ['cache', ['db']],
          ['db', []],
        ]),
        'app',
      ),
    ).toEqual(['db', 'cache', 'app']);
  });
});
