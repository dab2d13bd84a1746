import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { pluginMachine, pluginStateOf, type PluginMachineInput } from '../../machines/plugin.machine.js';
import type { PluginStateName } from '../../machines/types.js';
import { fakeInstances } from './fake-instance.js';

function startLazy(overrides: Partial<PluginMachineInput> = {}, fakeOptions: { ignoreStop?: boolean } = {}) {
  const fakes = fakeInstances(fakeOptions);
  const clock = new SimulatedClock();
  const states: PluginStateName[] = [];
  const machine = pluginMachine.provide({
    actors: { instance: fakes.actor },
    actions: {
      reportState: (_, params: { state: PluginStateName }) => {
        states.push(params.state);
      },
      reportIdle: () => {},
    },
  });
  const input: PluginMachineInput = {
    name: 'lazy',
    id: 'abc',
    interfaceTypes: ['Greeter'],
    restart: { policy: 'on-failure', maxRetries: 2 },
    activationTimeoutMs: 1_000,
    stopTimeoutMs: 500,
    activation: 'lazy',
    ...overrides,
  };
  const actor = createActor(machine, { input, clock }).start();
  const state = () => pluginStateOf(actor.getSnapshot());
  const idle = () => actor.getSnapshot().hasTag('idle');
  const enableAndStart = () => {
    actor.send({ type: 'ENABLE' });
    actor.send({ type: 'START' });
  };
  const activate = () => {
    actor.send({ type: 'ACTIVATE' });
    fakes.last().handshake(['Greeter']);
  };
  return { actor, clock, fakes, states, state, idle, enableAndStart, activate };
}

describe('lazy plugin lifecycle', () => {
  it('waits in enabled (idle) after START, without an instance, until ACTIVATE', () => {
    const { actor, fakes, state, idle, enableAndStart, states } = startLazy();
    enableAndStart();
    expect(state()).toBe('enabled');
    expect(idle()).toBe(true);
    expect(fakes.started).toHaveLength(0);
    actor.send({ type: 'ACTIVATE' });
    expect(state()).toBe('activating');
    fakes.last().handshake(['Greeter']);
    expect(state()).toBe('running');
    expect(idle()).toBe(false);
    expect(states).toEqual(['installed', 'enabled', 'activating', 'running']);
  });

  it('ignores ACTIVATE unless idle (an eager plugin, or one already live)', () => {
    const eager = startLazy({ activation: 'eager' });
    eager.actor.send({ type: 'ENABLE' });
    eager.actor.send({ type: 'ACTIVATE' });
    expect(eager.state()).toBe('enabled');
    expect(eager.fakes.started).toHaveLength(0);
    const lazy = startLazy();
    lazy.enableAndStart();
    lazy.actor.send({ type: 'ACTIVATE' });
    lazy.actor.send({ type: 'ACTIVATE' });
    expect(lazy.fakes.started).toHaveLength(1);
  });

  it('stops after idleTimeoutMs without calls and goes back to idle; the timer runs only while no call is in flight', () => {
    const { actor, clock, fakes, state, idle, enableAndStart, activate, states } = startLazy({ idleTimeoutMs: 1_000 });
    enableAndStart();
    activate();
    actor.send({ type: 'CALL_STARTED' });
    actor.send({ type: 'CALL_STARTED' });
    clock.increment(5_000);
    expect(state()).toBe('running');
    actor.send({ type: 'CALL_ENDED' });
    clock.increment(5_000);
    expect(state()).toBe('running');
    actor.send({ type: 'CALL_ENDED' });
    // The timer restarts from the last call's end.
    clock.increment(999);
    expect(state()).toBe('running');
    clock.increment(1);
    expect(fakes.last().stopped).toBe(true);
    expect(state()).toBe('enabled');
    expect(idle()).toBe(true);
    expect(actor.getSnapshot().context.restarts).toBe(0);
    activate();
    expect(fakes.started).toHaveLength(2);
    expect(state()).toBe('running');
    // The last call's end re-enters `running` to restart the timer: a repeated report, which the
    // supervisor drops as no change of state.
    expect(states).toEqual(['installed', 'enabled', 'activating', 'running', 'running', 'stopping', 'enabled', 'activating', 'running']);
  });

  it('keeps running without idleTimeoutMs', () => {
    const { clock, state, enableAndStart, activate } = startLazy();
    enableAndStart();
    activate();
    clock.increment(3_600_000);
    expect(state()).toBe('running');
  });

  it('goes idle, its instance killed, when an idle stop outlives stopTimeoutMs', () => {
    const { clock, fakes, state, idle, enableAndStart, activate } = startLazy({ idleTimeoutMs: 100 }, { ignoreStop: true });
    enableAndStart();
    activate();
    clock.increment(100);
    expect(state()).toBe('stopping');
    clock.increment(500);
    expect(fakes.last().killed).toBe(true);
    expect(state()).toBe('enabled');
    expect(idle()).toBe(true);
  });

  it('restarts a crashed lazy plugin as an eager one, and a DISABLE during an idle stop wins', () => {
    const { actor, clock, fakes, state, enableAndStart, activate } = startLazy({ idleTimeoutMs: 1_000 });
    enableAndStart();
    activate();
    fakes.last().exit({ reason: 'crash', code: 1 });
    expect(state()).toBe('restarting');
    clock.increment(200);
    expect(state()).toBe('activating');
    fakes.last().handshake(['Greeter']);
    expect(actor.getSnapshot().context.restarts).toBe(1);
    actor.send({ type: 'DISABLE' });
    expect(state()).toBe('disabled');
  });

  it('does not idle while pinned (an enabled plugin requires it); UNPIN starts the idle timer again', () => {
    const { actor, clock, state, idle, enableAndStart, activate } = startLazy({ idleTimeoutMs: 1_000 });
    enableAndStart();
    actor.send({ type: 'PIN' });
    activate();
    clock.increment(10_000);
    expect(state()).toBe('running');
    clock.increment(500);
    actor.send({ type: 'UNPIN' });
    clock.increment(999);
    expect(state()).toBe('running');
    clock.increment(1);
    expect(state()).toBe('enabled');
    expect(idle()).toBe(true);
  });

  it('disables an idle plugin directly', () => {
    const { actor, fakes, state, enableAndStart } = startLazy();
    enableAndStart();
    actor.send({ type: 'DISABLE' });
    expect(state()).toBe('disabled');
    expect(fakes.started).toHaveLength(0);
  });
});
