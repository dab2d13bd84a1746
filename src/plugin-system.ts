// The supervisor machine as the runtime runs it: the pure machines given their actors (the
// instance actor over the host's Instances) and the restart delay's jitter, and the ADD event
// that brings a store record under supervision.
import { pluginMachine } from '../machines/plugin.machine.js';
import { supervisorMachine } from '../machines/supervisor.machine.js';
import { createInstanceActor, type InstanceHost } from './isolation/instance-actor.js';
import type { ResolvedOptions } from './options.js';
import type { PluginRecord } from './store.js';

export function runtimeSupervisorMachine(host: InstanceHost, options: ResolvedOptions) {
  const jitter = options.restartJitter;
  const plugin = pluginMachine.provide({
    actors: { instance: createInstanceActor(host) },
    // The machine stays pure: the runtime brings the randomness.
    delays: { restartDelay: ({ context }) => Math.round(context.restartDelayMs * (1 + jitter * Math.random())) },
  });
  return supervisorMachine.provide({ actors: { plugin } });
}

/** The event that spawns a plugin actor for `record`, with the supervisor's timing options. */
export function addPluginEvent(record: PluginRecord, options: ResolvedOptions) {
  const { manifest } = record;
  return {
    type: 'ADD' as const,
    requires: manifest.requires,
    plugin: {
      name: manifest.name,
      id: record.id,
      interfaceTypes: manifest.interface.types,
      restart: { ...manifest.restart, backoff: options.restart.backoff, intensity: options.restart.intensity },
      activationTimeoutMs: options.activationTimeoutMs,
      stopTimeoutMs: options.stopTimeoutMs,
    },
  };
}
