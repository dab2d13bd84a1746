// The plugin machine as a model for xstate/graph: its instance actor is inert (the traversal
// sends the instance's events itself), and states are compared by their public names.
import { fromCallback, type SnapshotFrom } from 'xstate';
import { getAdjacencyMap, type AdjacencyValue } from 'xstate/graph';
import {
  pluginMachine,
  pluginStateOf,
  type InstanceActorEvent,
  type InstanceActorInput,
  type PluginEvent,
} from '../../machines/plugin.machine.js';

export function pluginModel() {
  // A traversal runs no actors: what the machine tells its parent, its policy and its instance
  // goes nowhere, and the traversal sends their answers itself.
  const nowhere = () => undefined;
  return pluginMachine.provide({
    actors: { instance: fromCallback<InstanceActorEvent, InstanceActorInput>(nowhere) },
    actions: { reportState: nowhere, resetPolicy: nowhere, tellPolicyExited: nowhere, stopInstance: nowhere },
  });
}

type Snapshot = SnapshotFrom<ReturnType<typeof pluginModel>>;

export const publicState = (snapshot: Snapshot): string => pluginStateOf(snapshot);

export const modelInput = {
  name: 'p',
  id: 'id',
  interfaceTypes: ['Op'],
  restart: { policy: 'on-failure' as const, maxRetries: 1 },
  activationTimeoutMs: 1_000,
  stopTimeoutMs: 1_000,
};

const events: PluginEvent[] = [
  { type: 'ENABLE' },
  { type: 'DISABLE' },
  { type: 'START' },
  { type: 'SUSPEND' },
  { type: 'REMOVE' },
  { type: 'THREAD_STARTED' },
  { type: 'HANDSHAKE_OK', implements: ['Op'] },
  { type: 'INSTANCE_EXITED', exit: { reason: 'crash', code: 1, error: null, uptimeMs: 1 } },
  { type: 'RESTART', delayMs: 100 },
  { type: 'GIVE_UP', why: 'model' },
];

export const modelEdges = {
  events,
  /** Every change of public state one event can make, as "from -> to". */
  publicEdges(): string[] {
    const map = getAdjacencyMap(pluginModel(), { input: modelInput, events, serializeState: (s) => JSON.stringify(s.value) });
    const edges = new Set<string>();
    for (const { state, transitions } of Object.values(map) as AdjacencyValue<Snapshot, PluginEvent>[]) {
      for (const { state: next } of Object.values(transitions) as { state: Snapshot }[]) {
        const from = publicState(state);
        const to = publicState(next);
        if (from !== to) edges.add(`${from} -> ${to}`);
      }
    }
    return [...edges];
  },
};
