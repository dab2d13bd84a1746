// A fake instance actor for machine tests: each started instance is recorded so a test can
// make it answer the handshake or exit, without any worker.
import { fromCallback } from 'xstate';
import type { InstanceActorEvent, InstanceActorInput } from '../../machines/plugin.machine.js';
import type { InstanceExit } from '../../machines/types.js';

export interface FakeInstance {
  input: InstanceActorInput;
  /** Reports the thread started (done at once unless the fake defers it). */
  threadStarted(): void;
  stopped: boolean;
  killed: boolean;
  handshake(implementsList: string[]): void;
  exit(exit: Partial<InstanceExit>): void;
}

export function fakeInstances(options: { ignoreStop?: boolean; deferThreadStart?: boolean } = {}) {
  const started: FakeInstance[] = [];
  const actor = fromCallback<InstanceActorEvent, InstanceActorInput>(({ input, sendBack, receive }) => {
    const inst: FakeInstance = {
      input,
      threadStarted: () => sendBack({ type: 'THREAD_STARTED' }),
      stopped: false,
      killed: false,
      handshake: (list) => sendBack({ type: 'HANDSHAKE_OK', implements: list }),
      exit: (exit) => sendBack({ type: 'INSTANCE_EXITED', exit: { reason: 'crash', code: 1, error: null, uptimeMs: 5, ...exit } }),
    };
    started.push(inst);
    if (!options.deferThreadStart) inst.threadStarted();
    receive((e) => {
      if (e.type === 'STOP') {
        inst.stopped = true;
        if (!options.ignoreStop) inst.exit({ reason: 'stopped', code: 0 });
      }
    });
    return () => {
      inst.killed = true;
    };
  });
  const last = () => {
    const inst = started.at(-1);
    if (!inst) throw new Error('no instance started');
    return inst;
  };
  return { started, actor, last };
}
