import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { pluginMachine, pluginStateOf, type PluginMachineInput } from '../../machines/plugin.machine.js';
import type { PluginStateName } from '../../machines/types.js';
import { fakeInstances } from './fake-instance.js';

function startPlugin(overrides: Partial<PluginMachineInput> = {}, fakeOptions: { ignoreStop?: boolean; deferThreadStart?: boolean } = {}) {
  const fakes = fakeInstances(fakeOptions);
  const clock = new SimulatedClock();
  const states: PluginStateName[] = [];
  const machine = pluginMachine.provide({
    actors: { instance: fakes.actor },
    actions: {
      reportState: (_, params: { state: PluginStateName }) => {
        states.push(params.state);
      },
    },
  });
  const input: PluginMachineInput = {
    name: 'hello',
    id: 'abc',
    interfaceTypes: ['Greeter'],
    restart: { policy: 'on-failure', maxRetries: 2 },
    activationTimeoutMs: 1_000,
    stopTimeoutMs: 500,
    ...overrides,
  };
  const actor = createActor(machine, { input, clock }).start();
  const state = () => pluginStateOf(actor.getSnapshot());
  const enableAndStart = () => {
    actor.send({ type: 'ENABLE' });
    actor.send({ type: 'START' });
  };
  return { actor, clock, fakes, states, state, enableAndStart };
}

describe('plugin lifecycle', () => {
  it('goes installed → enabled → activating → running → stopping → disabled → removed', () => {
    const { actor, fakes, states, state, enableAndStart } = startPlugin();
    expect(state()).toBe('installed');
    enableAndStart();
    expect(state()).toBe('activating');
    fakes.last().handshake(['Greeter']);
    expect(state()).toBe('running');
    expect(actor.getSnapshot().context.implements).toEqual(['Greeter']);
    actor.send({ type: 'DISABLE' });
    expect(fakes.last().stopped).toBe(true);
    expect(state()).toBe('disabled');
    actor.send({ type: 'REMOVE' });
    expect(state()).toBe('removed');
    expect(actor.getSnapshot().status).toBe('done');
    expect(states).toEqual(['installed', 'enabled', 'activating', 'running', 'stopping', 'disabled', 'removed']);
  });

  it('waits in enabled until the supervisor sends START', () => {
    const { actor, fakes, state } = startPlugin();
    actor.send({ type: 'ENABLE' });
    expect(state()).toBe('enabled');
    expect(fakes.started).toHaveLength(0);
  });

  it('refuses REMOVE while live (only installed and disabled plugins are removed)', () => {
    const { actor, state, enableAndStart } = startPlugin();
    enableAndStart();
    actor.send({ type: 'REMOVE' });
    expect(state()).toBe('activating');
  });
});

describe('restarts', () => {
  it('restarts an on-failure:2 plugin twice, at once then after 200 ms, then gives up with the error kept', () => {
    const { actor, clock, fakes, state, enableAndStart } = startPlugin();
    enableAndStart();
    fakes.last().handshake(['Greeter']);
    fakes.last().exit({ reason: 'crash', error: { code: 'PLUGD_E_PLUGIN_EXITED', message: 'boom' } });
    expect(state()).toBe('restarting');
    expect(fakes.started).toHaveLength(1);
    clock.increment(0);
    expect(state()).toBe('activating');
    expect(fakes.started).toHaveLength(2);
    expect(fakes.started[0]!.killed).toBe(true);
    fakes.last().handshake(['Greeter']);
    fakes.last().exit({ reason: 'hung' });
    clock.increment(199);
    expect(state()).toBe('restarting');
    clock.increment(1);
    fakes.last().exit({ reason: 'oom', error: { code: 'PLUGD_E_PLUGIN_OOM', message: 'heap' } });
    expect(state()).toBe('disabled');
    const ctx = actor.getSnapshot().context;
    expect(ctx.restarts).toBe(2);
    expect(ctx.lastError).toEqual({ code: 'PLUGD_E_PLUGIN_OOM', message: 'heap' });
    expect(ctx.gaveUp).toContain('on-failure:2');
  });

  it('counts each instance and gives each a new number', () => {
    const { fakes, clock, enableAndStart } = startPlugin({ restart: { policy: 'always' } });
    enableAndStart();
    fakes.last().exit({});
    clock.increment(100);
    fakes.last().exit({});
    clock.increment(200);
    expect(fakes.started.map((f) => f.input.instance)).toEqual([1, 2, 3]);
  });

  it('a DISABLE during the backoff wins over the pending restart', () => {
    const { actor, clock, fakes, state, enableAndStart } = startPlugin({ restart: { policy: 'always' } });
    enableAndStart();
    fakes.last().exit({});
    actor.send({ type: 'DISABLE' });
    clock.increment(10_000);
    expect(state()).toBe('disabled');
    expect(fakes.started).toHaveLength(1);
  });

  it('ENABLE after a give-up starts from zero restarts', () => {
    const { actor, clock, fakes, enableAndStart } = startPlugin({ restart: { policy: 'on-failure', maxRetries: 1 } });
    enableAndStart();
    fakes.last().exit({});
    clock.increment(100);
    fakes.last().exit({});
    expect(actor.getSnapshot().context.restarts).toBe(1);
    enableAndStart();
    expect(actor.getSnapshot().context.restarts).toBe(0);
    fakes.last().exit({});
    expect(actor.getSnapshot().value).toEqual({ restarting: 'backoff' });
  });
});

describe('activation', () => {
  it('times out an activation that never answers and lets the policy decide', () => {
    const { actor, clock, fakes, state, enableAndStart } = startPlugin({ restart: { policy: 'no' } });
    enableAndStart();
    clock.increment(999);
    expect(state()).toBe('activating');
    clock.increment(1);
    expect(fakes.last().killed).toBe(true);
    expect(state()).toBe('disabled');
    expect(actor.getSnapshot().context.lastError?.code).toBe('PLUGD_E_ACTIVATION_TIMEOUT');
  });

  it('does not count the wait for a thread slot against the activation timeout', () => {
    const { clock, fakes, state, enableAndStart } = startPlugin({ activationTimeoutMs: 1_000 }, { deferThreadStart: true });
    enableAndStart();
    clock.increment(5_000);
    expect(state()).toBe('activating');
    fakes.last().threadStarted();
    clock.increment(999);
    fakes.last().handshake(['Greeter']);
    expect(state()).toBe('running');
  });

  it('fails a handshake whose Implements misses a declared type', () => {
    const { actor, fakes, state, enableAndStart } = startPlugin({ restart: { policy: 'no' }, interfaceTypes: ['Greeter', 'Shouter'] });
    enableAndStart();
    fakes.last().handshake(['Greeter']);
    expect(state()).toBe('disabled');
    expect(actor.getSnapshot().context.lastError?.message).toContain('lacks [Shouter]');
  });
});

describe('stopping', () => {
  it('kills an instance that does not stop within stopTimeoutMs', () => {
    const { actor, clock, fakes, state, enableAndStart } = startPlugin({}, { ignoreStop: true });
    enableAndStart();
    fakes.last().handshake(['Greeter']);
    actor.send({ type: 'DISABLE' });
    expect(state()).toBe('stopping');
    expect(fakes.last().stopped).toBe(true);
    clock.increment(499);
    expect(fakes.last().killed).toBe(false);
    clock.increment(1);
    expect(fakes.last().killed).toBe(true);
    expect(state()).toBe('disabled');
  });

  it('SUSPEND stops the instance and returns to enabled, waiting for START', () => {
    const { actor, fakes, state, enableAndStart } = startPlugin();
    enableAndStart();
    fakes.last().handshake(['Greeter']);
    actor.send({ type: 'SUSPEND' });
    expect(state()).toBe('enabled');
    actor.send({ type: 'START' });
    expect(fakes.started).toHaveLength(2);
  });
});
