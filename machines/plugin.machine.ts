// The lifecycle of one plugin, as the README draws it. Pure: the runtime provides the
// `instance` actor (a worker that activates, runs and exits) and timing comes from named delays.
//
//   installed --ENABLE--> enabled --START--> live.activating --HANDSHAKE_OK--> live.running
//   (activating = starting, waiting for a thread slot, then handshaking, which alone is timed)
//   live.* --INSTANCE_EXITED--> restarting --RESTART(after backoff)--> live.activating
//   restarting --GIVE_UP--> disabled ; live.* --DISABLE--> live.stopping --> disabled
//   installed|disabled --REMOVE--> removed
//
// `live` groups the states that own an instance: leaving it stops the instance actor.
import { assign, fromCallback, sendParent, sendTo, setup, type StateValue } from 'xstate';
import { restartPolicyMachine } from './restart-policy.machine.js';
import type { ErrorInfo, InstanceExit, PluginStateName, PolicyAnswer, RestartPolicyInput } from './types.js';

export interface PluginMachineInput {
  name: string;
  id: string;
  /** manifest.interface.types: what the handshake must cover. */
  interfaceTypes: string[];
  restart: RestartPolicyInput;
  activationTimeoutMs: number;
  /** How long a graceful stop (deactivate) may take before the instance is killed. */
  stopTimeoutMs: number;
}

export interface PluginContext extends PluginMachineInput {
  /** Restarts performed since the last ENABLE. */
  restarts: number;
  /** Incremented for every instance started; names the instance in logs. */
  instance: number;
  implements: string[];
  lastExit: InstanceExit | null;
  lastError: ErrorInfo | null;
  /** Why the restart policy gave up, when it did. */
  gaveUp: string | null;
  restartDelayMs: number;
  /** Whether the stop in progress disables the plugin or only suspends it for a dependency. */
  stopIntent: 'disable' | 'suspend';
}

/** What the runtime's instance actor is given. */
export interface InstanceActorInput {
  name: string;
  id: string;
  instance: number;
}

/** Events the instance actor receives from the machine. */
export type InstanceActorEvent = { type: 'STOP' };

export type PluginEvent =
  | { type: 'ENABLE' }
  | { type: 'DISABLE' }
  | { type: 'START' }
  | { type: 'SUSPEND' }
  | { type: 'REMOVE' }
  | { type: 'THREAD_STARTED' }
  | { type: 'HANDSHAKE_OK'; implements: string[] }
  | { type: 'INSTANCE_EXITED'; exit: InstanceExit }
  | PolicyAnswer;

/** What a plugin tells its parent (the supervisor) on entering each state. */
export interface PluginStateReport {
  type: 'PLUGIN.STATE';
  name: string;
  state: PluginStateName;
}

export const pluginMachine = setup({
  types: {
    context: {} as PluginContext,
    events: {} as PluginEvent,
    input: {} as PluginMachineInput,
  },
  actors: {
    // Placeholder: the runtime provides the real one with machine.provide({ actors }).
    instance: fromCallback<InstanceActorEvent, InstanceActorInput>(() => {
      throw new Error('plugin.machine: the runtime must provide the "instance" actor');
    }),
    restartPolicy: restartPolicyMachine,
  },
  delays: {
    activationTimeout: ({ context }) => context.activationTimeoutMs,
    restartDelay: ({ context }) => context.restartDelayMs,
    stopTimeout: ({ context }) => context.stopTimeoutMs,
  },
  guards: {
    implementsInterface: ({ context, event }) =>
      event.type === 'HANDSHAKE_OK' && context.interfaceTypes.every((t) => event.implements.includes(t)),
    isSuspending: ({ context }) => context.stopIntent === 'suspend',
  },
  actions: {
    reportState: sendParent(({ context }, params: { state: PluginStateName }): PluginStateReport => ({
      type: 'PLUGIN.STATE', name: context.name, state: params.state,
    })),
    resetForEnable: assign({ restarts: 0, lastError: null, lastExit: null, gaveUp: null }),
    resetPolicy: sendTo('policy', { type: 'RESET' }),
    nextInstance: assign({ instance: ({ context }) => context.instance + 1, implements: [] }),
    recordHandshake: assign({
      implements: ({ event }) => (event.type === 'HANDSHAKE_OK' ? event.implements : []),
    }),
    recordIncompleteHandshake: assign(({ context, event }) => {
      const got = event.type === 'HANDSHAKE_OK' ? event.implements : [];
      const missing = context.interfaceTypes.filter((t) => !got.includes(t));
      const error: ErrorInfo = {
        code: 'PLUGD_E_ACTIVATION',
        message: `plugin "${context.name}" activated with Implements [${got.join(', ')}], which lacks [${missing.join(', ')}] from interface.types; return every capability the manifest declares`,
      };
      return { lastExit: { reason: 'activation-failed' as const, code: null, error, uptimeMs: 0 }, lastError: error };
    }),
    recordActivationTimeout: assign(({ context }) => {
      const error: ErrorInfo = {
        code: 'PLUGD_E_ACTIVATION_TIMEOUT',
        message: `plugin "${context.name}" did not activate within ${context.activationTimeoutMs} ms; its activate() may never return or may block its event loop`,
      };
      return { lastExit: { reason: 'activation-timeout' as const, code: null, error, uptimeMs: context.activationTimeoutMs }, lastError: error };
    }),
    recordExit: assign(({ context, event }) => {
      if (event.type !== 'INSTANCE_EXITED') return {};
      return { lastExit: event.exit, lastError: event.exit.error ?? context.lastError };
    }),
    tellPolicyExited: sendTo('policy', ({ context }) => {
      const exit = context.lastExit ?? { reason: 'exit' as const, code: null, uptimeMs: 0 };
      return { type: 'EXITED' as const, reason: exit.reason, code: exit.code, uptimeMs: exit.uptimeMs };
    }),
    recordDelay: assign({ restartDelayMs: ({ event }) => (event.type === 'RESTART' ? event.delayMs : 0) }),
    recordGiveUp: assign({ gaveUp: ({ event }) => (event.type === 'GIVE_UP' ? event.why : null) }),
    countRestart: assign({ restarts: ({ context }) => context.restarts + 1 }),
    intendDisable: assign({ stopIntent: 'disable' as const }),
    intendSuspend: assign({ stopIntent: 'suspend' as const }),
    stopInstance: sendTo('instance', { type: 'STOP' }),
  },
}).createMachine({
  id: 'plugin',
  context: ({ input }) => ({
    ...input,
    restarts: 0,
    instance: 0,
    implements: [],
    lastExit: null,
    lastError: null,
    gaveUp: null,
    restartDelayMs: 0,
    stopIntent: 'disable',
  }),
  invoke: { id: 'policy', src: 'restartPolicy', input: ({ context }) => context.restart },
  initial: 'installed',
  states: {
    installed: {
      entry: { type: 'reportState', params: { state: 'installed' } },
      on: {
        ENABLE: { target: 'enabled', actions: ['resetForEnable', 'resetPolicy'] },
        REMOVE: 'removed',
      },
    },
    // Wanted, waiting for the supervisor's START (sent once every `requires` is running).
    enabled: {
      entry: { type: 'reportState', params: { state: 'enabled' } },
      on: {
        START: 'live',
        DISABLE: 'disabled',
      },
    },
    live: {
      entry: 'nextInstance',
      invoke: {
        id: 'instance',
        src: 'instance',
        input: ({ context }) => ({ name: context.name, id: context.id, instance: context.instance }),
      },
      initial: 'activating',
      states: {
        activating: {
          entry: { type: 'reportState', params: { state: 'activating' } },
          initial: 'starting',
          states: {
            // Waiting for the runtime to start the instance's thread (starts are rationed).
            starting: {
              on: { THREAD_STARTED: 'handshaking' },
            },
            // Only the plugin's own time counts against activationTimeoutMs.
            handshaking: {
              after: {
                activationTimeout: { target: '#plugin.restarting', actions: 'recordActivationTimeout' },
              },
            },
          },
          on: {
            HANDSHAKE_OK: [
              { guard: 'implementsInterface', target: 'running', actions: 'recordHandshake' },
              { target: '#plugin.restarting', actions: 'recordIncompleteHandshake' },
            ],
          },
        },
        running: {
          entry: { type: 'reportState', params: { state: 'running' } },
        },
        stopping: {
          entry: [{ type: 'reportState', params: { state: 'stopping' } }, 'stopInstance'],
          after: {
            // Leaving `live` kills an instance that did not stop in time.
            stopTimeout: [
              { guard: 'isSuspending', target: '#plugin.enabled' },
              { target: '#plugin.disabled' },
            ],
          },
          on: {
            INSTANCE_EXITED: [
              { guard: 'isSuspending', target: '#plugin.enabled', actions: 'recordExit' },
              { target: '#plugin.disabled', actions: 'recordExit' },
            ],
            DISABLE: { actions: 'intendDisable' },
            SUSPEND: {},
          },
        },
      },
      on: {
        INSTANCE_EXITED: { target: 'restarting', actions: 'recordExit' },
        DISABLE: { target: '.stopping', actions: 'intendDisable' },
        SUSPEND: { target: '.stopping', actions: 'intendSuspend' },
      },
    },
    restarting: {
      entry: [{ type: 'reportState', params: { state: 'restarting' } }, 'tellPolicyExited'],
      initial: 'deciding',
      states: {
        deciding: {
          on: {
            RESTART: { target: 'backoff', actions: 'recordDelay' },
            GIVE_UP: { target: '#plugin.disabled', actions: 'recordGiveUp' },
          },
        },
        backoff: {
          after: { restartDelay: { target: '#plugin.live', actions: 'countRestart' } },
        },
      },
      on: {
        DISABLE: 'disabled',
        SUSPEND: 'enabled',
      },
    },
    disabled: {
      entry: { type: 'reportState', params: { state: 'disabled' } },
      on: {
        ENABLE: { target: 'enabled', actions: ['resetForEnable', 'resetPolicy'] },
        REMOVE: 'removed',
      },
    },
    removed: {
      type: 'final',
      entry: { type: 'reportState', params: { state: 'removed' } },
    },
  },
});

/** The public state name (the lifecycle's vocabulary) of a plugin machine's state value. */
export function pluginStateName(value: StateValue): PluginStateName {
  if (typeof value === 'string') return value as PluginStateName;
  const [top, sub] = Object.entries(value)[0] ?? ['installed', undefined];
  if (top === 'live' && sub !== undefined) return (typeof sub === 'string' ? sub : Object.keys(sub)[0]) as PluginStateName;
  return top as PluginStateName;
}
