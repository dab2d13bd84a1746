// The instance actor with a host whose starts wait on a real start gate: a STOP that comes while
// a start still waits must leave the queue, never start a thread only to stop it.
import { createActor, sendTo, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { InstanceActorInput } from '../../machines/plugin.machine.js';
import { createInstanceActor, type InstanceHost } from '../../src/isolation/instance-actor.js';
import type { PluginInstance } from '../../src/isolation/plugin-instance.js';
import { Semaphore } from '../../src/isolation/semaphore.js';

describe('the instance actor', () => {
  it('never starts an instance that was stopped while it waited for its start slot', async () => {
    const gate = new Semaphore(1);
    const holder = await gate.acquire(); // every start slot is taken
    const started: string[] = [];
    const host: InstanceHost = {
      stopTimeoutMs: 1_000,
      async start(input: InstanceActorInput, signal: AbortSignal): Promise<PluginInstance> {
        const release = await gate.acquire('urgent', signal);
        release();
        started.push(input.name);
        throw new Error('this test starts nothing');
      },
      activated() {},
    };
    const events: unknown[] = [];
    const parent = createActor(
      setup({ actors: { instance: createInstanceActor(host) } }).createMachine({
        invoke: { id: 'instance', src: 'instance', input: { name: 'queued', id: 'x', instance: 1 } },
        on: {
          STOP: { actions: sendTo('instance', { type: 'STOP' }) },
          '*': { actions: ({ event }) => events.push(event) },
        },
      }),
    );
    parent.start();
    expect(gate.waiting).toBe(1);
    parent.send({ type: 'STOP' });
    await expect.poll(() => events).toEqual([{ type: 'INSTANCE_EXITED', exit: { reason: 'stopped', code: null, uptimeMs: 0 } }]);
    expect(gate.waiting).toBe(0);
    holder();
    // The freed slot goes to no one: the next acquire gets it at once.
    (await gate.acquire())();
    expect(started).toEqual([]);
    parent.stop();
  });

  it('takes a waiting start out of the queue when the machine leaves live', async () => {
    const gate = new Semaphore(1);
    const holder = await gate.acquire();
    const host: InstanceHost = {
      stopTimeoutMs: 1_000,
      start: async (_input, signal) => {
        await gate.acquire('urgent', signal);
        throw new Error('not reached');
      },
      activated() {},
    };
    const machine = setup({ actors: { instance: createInstanceActor(host) } }).createMachine({
      initial: 'live',
      states: { live: { invoke: { src: 'instance', input: { name: 'q', id: 'x', instance: 1 } }, on: { LEAVE: 'gone' } }, gone: {} },
    });
    const actor = createActor(machine).start();
    expect(gate.waiting).toBe(1);
    actor.send({ type: 'LEAVE' });
    await Promise.resolve();
    expect(gate.waiting).toBe(0);
    holder();
    actor.stop();
  });
});
