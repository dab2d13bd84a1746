// The lifecycle of one plugin, as the README draws it. Pure: the runtime provides the
// `instance` actor (a worker that activates, runs and exits) and timing comes from named delays.
//
//   installed --ENABLE--> enabled --START--> live.activating --HANDSHAKE_OK--> live.running
//   (activating = starting, waiting for a thread slot, then handshaking, which alone is timed)
//   live.* --INSTANCE_EXITED--> restarting --RESTART(after backoff)--> live.activating
//   restarting --GIVE_UP--> disabled ; live.* --DISABLE--> live.stopping --> disabled
//   installed|disabled --REMOVE--> removed
//
// A lazy plugin (`activation: "lazy"`) takes START into `enabled.idle` instead, without an
// instance; the runtime sends ACTIVATE on its first call. With an idle timeout, `live.running`
// counts the calls in flight (CALL_STARTED / CALL_ENDED) and, idleTimeoutMs after the last ends,
// stops the instance back to `enabled.idle`, unless PIN says an enabled plugin requires it.
//
// `live` groups the states that own an instance: leaving it stops the instance actor.
// Each public state is tagged with its name, and `atRest` / `live` group them: the runtime asks
// `snapshot.hasTag()` and `snapshot.can(event)`, and keeps no list of states of its own.
import { assertEvent, assign, fromCallback, sendParent, sendTo, setup, type AnyStateNode, type SnapshotFrom } from 'xstate';
import { restartPolicyMachine } from './restart-policy.machine.js';
import {
  PLUGIN_STATES,
  type ErrorInfo,
  type InstanceExit,
  type PluginStateName,
  type PluginTag,
  type PolicyAnswer,
  type RestartPolicyInput,
} from './types.js';

export interface PluginMachineInput {
  name: string;
  id: string;
  /** manifest.interface.types: what the handshake must cover. */
  interfaceTypes: string[];
  restart: RestartPolicyInput;
  activationTimeoutMs: number;
  /** How long a graceful stop (deactivate) may take before the instance is killed. */
  stopTimeoutMs: number;
  /** "lazy": START leaves the plugin idle in `enabled` until ACTIVATE (its first call). Default "eager". */
  activation?: 'eager' | 'lazy';
  /** Lazy plugins only: a running instance without calls for this long is stopped back to idle. */
  idleTimeoutMs?: number;
}

export interface PluginContext extends PluginMachineInput {
  /** Restarts performed since the last ENABLE: the one count (the restart policy is told it with each exit). */
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
  stopIntent: 'disable' | 'suspend' | 'idle';
  /** Calls in flight, counted only for a lazy plugin with an idle timeout. */
  callsInFlight: number;
  /** Set while an enabled plugin requires this one: no idle stop then. */
  pinned: boolean;
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
  | { type: 'ACTIVATE' }
  | { type: 'CALL_STARTED' }
  | { type: 'CALL_ENDED' }
  | { type: 'PIN' }
  | { type: 'UNPIN' }
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
  /** The failure that caused this change (an instance's end or failed activation, a give-up), else null. */
  error: ErrorInfo | null;
  /** Restarts performed since the last ENABLE. */
  restarts: number;
}

/**
 * A lazy plugin entering or leaving `enabled.idle`, which no state report says: the supervisor
 * activates an idle dependency of a plugin that waits to start.
 */
export interface PluginIdleReport {
  type: 'PLUGIN.IDLE';
  name: string;
  idle: boolean;
}

export const pluginMachine = setup({
  types: {
    context: {} as PluginContext,
    events: {} as PluginEvent,
    input: {} as PluginMachineInput,
    tags: {} as PluginTag,
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
    idleTimeout: ({ context }) => context.idleTimeoutMs ?? 0,
  },
  guards: {
    implementsInterface: ({ context, event }) => {
      assertEvent(event, 'HANDSHAKE_OK');
      return context.interfaceTypes.every((t) => event.implements.includes(t));
    },
    isSuspending: ({ context }) => context.stopIntent === 'suspend',
    isIdling: ({ context }) => context.stopIntent === 'idle',
    isLazy: ({ context }) => context.activation === 'lazy',
    mayIdle: ({ context }) =>
      context.activation === 'lazy' && context.idleTimeoutMs !== undefined && !context.pinned && context.callsInFlight === 0,
    isLastCall: ({ context }) => context.callsInFlight <= 1,
  },
  actions: {
    reportState: sendParent(
      ({ context, event }, params: { state: PluginStateName }): PluginStateReport => ({
        type: 'PLUGIN.STATE',
        name: context.name,
        state: params.state,
        // Every way into `restarting` is a failure, recorded before this entry; a GIVE_UP ends one.
        error: params.state === 'restarting' || event.type === 'GIVE_UP' ? context.lastError : null,
        restarts: context.restarts,
      }),
    ),
    reportIdle: sendParent(
      ({ context }, params: { idle: boolean }): PluginIdleReport => ({ type: 'PLUGIN.IDLE', name: context.name, idle: params.idle }),
    ),
    resetForEnable: assign({ restarts: 0, lastError: null, lastExit: null, gaveUp: null }),
    resetPolicy: sendTo('policy', { type: 'RESET' }),
    nextInstance: assign({ instance: ({ context }) => context.instance + 1, implements: [] }),
    recordHandshake: assign({
      implements: ({ event }) => {
        assertEvent(event, 'HANDSHAKE_OK');
        return event.implements;
      },
    }),
    recordIncompleteHandshake: assign(({ context, event }) => {
      assertEvent(event, 'HANDSHAKE_OK');
      const got = event.implements;
      const missing = context.interfaceTypes.filter((t) => !got.includes(t));
      const error: ErrorInfo = {
        code: 'PLUGD_E_ACTIVATION',
        message:
          `plugin "${context.name}" activated with Implements [${got.join(', ')}], which lacks [${missing.join(', ')}] ` +
          `from interface.types; return every capability the manifest declares`,
      };
      return { lastExit: { reason: 'activation-failed' as const, code: null, error, uptimeMs: 0 }, lastError: error };
    }),
    recordActivationTimeout: assign(({ context }) => {
      const error: ErrorInfo = {
        code: 'PLUGD_E_ACTIVATION_TIMEOUT',
        message:
          `plugin "${context.name}" did not activate within ${context.activationTimeoutMs} ms; its activate() may never ` +
          `return or may block its event loop`,
      };
      return {
        lastExit: { reason: 'activation-timeout' as const, code: null, error, uptimeMs: context.activationTimeoutMs },
        lastError: error,
      };
    }),
    recordExit: assign(({ context, event }) => {
      assertEvent(event, 'INSTANCE_EXITED');
      return { lastExit: event.exit, lastError: event.exit.error ?? context.lastError };
    }),
    tellPolicyExited: sendTo('policy', ({ context }) => {
      const exit = context.lastExit ?? { reason: 'exit' as const, code: null, uptimeMs: 0 };
      return { type: 'EXITED' as const, reason: exit.reason, code: exit.code, uptimeMs: exit.uptimeMs, restarts: context.restarts };
    }),
    recordDelay: assign({
      restartDelayMs: ({ event }) => {
        assertEvent(event, 'RESTART');
        return event.delayMs;
      },
    }),
    recordGiveUp: assign({
      gaveUp: ({ event }) => {
        assertEvent(event, 'GIVE_UP');
        return event.why;
      },
    }),
    countRestart: assign({ restarts: ({ context }) => context.restarts + 1 }),
    intendDisable: assign({ stopIntent: 'disable' as const }),
    intendSuspend: assign({ stopIntent: 'suspend' as const }),
    intendIdle: assign({ stopIntent: 'idle' as const }),
    countCallStarted: assign({ callsInFlight: ({ context }) => context.callsInFlight + 1 }),
    countCallEnded: assign({ callsInFlight: ({ context }) => Math.max(0, context.callsInFlight - 1) }),
    resetCalls: assign({ callsInFlight: 0 }),
    pin: assign({ pinned: true }),
    unpin: assign({ pinned: false }),
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
    callsInFlight: 0,
    pinned: false,
  }),
  invoke: { id: 'policy', src: 'restartPolicy', input: ({ context }) => context.restart },
  on: {
    PIN: { actions: 'pin' },
    UNPIN: { actions: 'unpin' },
  },
  initial: 'installed',
  states: {
    installed: {
      tags: ['installed', 'atRest'],
      entry: { type: 'reportState', params: { state: 'installed' } },
      on: {
        ENABLE: { target: 'enabled', actions: ['resetForEnable', 'resetPolicy'] },
        REMOVE: 'removed',
      },
    },
    // Wanted, waiting for the supervisor's START (sent once every `requires` is running); a
    // lazy plugin then waits, idle, for its first call.
    enabled: {
      tags: ['enabled'],
      entry: { type: 'reportState', params: { state: 'enabled' } },
      initial: 'waiting',
      states: {
        waiting: {
          on: {
            START: [{ guard: 'isLazy', target: 'idle' }, { target: '#plugin.live' }],
          },
        },
        idle: {
          tags: ['idle'],
          entry: { type: 'reportIdle', params: { idle: true } },
          exit: { type: 'reportIdle', params: { idle: false } },
          on: { ACTIVATE: '#plugin.live' },
        },
      },
      on: {
        DISABLE: 'disabled',
      },
    },
    live: {
      tags: ['live'],
      entry: ['nextInstance', 'resetCalls'],
      invoke: {
        id: 'instance',
        src: 'instance',
        input: ({ context }) => ({ name: context.name, id: context.id, instance: context.instance }),
      },
      initial: 'activating',
      states: {
        activating: {
          tags: ['activating'],
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
        // A lazy plugin with an idle timeout is stopped once it expires with no call in flight.
        // Re-entering `running` restarts the timer (its repeated report changes no state).
        running: {
          tags: ['running'],
          entry: { type: 'reportState', params: { state: 'running' } },
          after: {
            idleTimeout: { guard: 'mayIdle', target: '#plugin.live.stopping', actions: 'intendIdle' },
          },
          on: {
            CALL_STARTED: { actions: 'countCallStarted' },
            CALL_ENDED: [
              { guard: 'isLastCall', target: 'running', reenter: true, actions: 'countCallEnded' },
              { actions: 'countCallEnded' },
            ],
            // The idle timer starts again once no enabled plugin requires this one.
            UNPIN: { target: 'running', reenter: true, actions: 'unpin' },
          },
        },
        stopping: {
          tags: ['stopping'],
          entry: [{ type: 'reportState', params: { state: 'stopping' } }, 'stopInstance'],
          after: {
            // Leaving `live` kills an instance that did not stop in time.
            stopTimeout: [
              { guard: 'isSuspending', target: '#plugin.enabled' },
              { guard: 'isIdling', target: '#plugin.enabled.idle' },
              { target: '#plugin.disabled' },
            ],
          },
          on: {
            INSTANCE_EXITED: [
              { guard: 'isSuspending', target: '#plugin.enabled', actions: 'recordExit' },
              { guard: 'isIdling', target: '#plugin.enabled.idle', actions: 'recordExit' },
              { target: '#plugin.disabled', actions: 'recordExit' },
            ],
            DISABLE: { actions: 'intendDisable' },
            // A dependency lost while idling: back to `enabled` to wait for it, not to idle.
            SUSPEND: { guard: 'isIdling', actions: 'intendSuspend' },
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
      tags: ['restarting'],
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
      tags: ['disabled', 'atRest'],
      entry: { type: 'reportState', params: { state: 'disabled' } },
      on: {
        ENABLE: { target: 'enabled', actions: ['resetForEnable', 'resetPolicy'] },
        REMOVE: 'removed',
      },
    },
    removed: {
      type: 'final',
      tags: ['removed', 'atRest'],
      entry: { type: 'reportState', params: { state: 'removed' } },
    },
  },
});

/** The public state (the lifecycle's vocabulary) a plugin actor is in: the tag naming it. */
export function pluginStateOf(snapshot: SnapshotFrom<typeof pluginMachine>): PluginStateName {
  return PLUGIN_STATES.find((name) => snapshot.hasTag(name)) ?? 'installed';
}

/** Each public state's tags, its ancestors' included, read from the machine's definition. */
const TAGS_OF_STATE = (() => {
  const tags = {} as Record<PluginStateName, ReadonlySet<PluginTag>>;
  const walk = (node: AnyStateNode, inherited: PluginTag[]) => {
    const own = [...inherited, ...(node.tags as PluginTag[])];
    const name = PLUGIN_STATES.find((s) => node.tags.includes(s));
    if (name) tags[name] = new Set(own);
    for (const child of Object.values(node.states)) walk(child, own);
  };
  walk(pluginMachine.root, []);
  return tags;
})();

/** Whether a public state carries `tag` (for the supervisor, which knows its plugins by their reports). */
export function stateHasTag(state: PluginStateName, tag: PluginTag): boolean {
  return TAGS_OF_STATE[state].has(tag);
}
