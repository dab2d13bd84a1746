// The `instance` actor the runtime provides to plugin.machine: it starts a PluginInstance,
// reports the handshake and the end back to the machine, and stops or kills it on request.
//
//   main thread                                     plugin worker (one per instance)
//   ───────────                                     ────────────────────────────────
//   plugin.machine ──invoke──> instance-actor
//                                │ new Worker ────> plugin-worker.mjs ── import(entry)
//                                │ comlink call ──> activate / call / deactivate
//   Watchdog (one timer) ──reads── SharedArrayBuffer <── Atomics.add heartbeat
//                                                      │ pino, console, stdout ──┐
//   LogPump (handle) ──attach(port)──> pump thread <──── MessagePort batches ────┘
//   TaskPool (piscina) ── bundle digests on short-lived pool threads
import { fromCallback } from 'xstate';
import { PlugdError } from '../errors.js';
import type { InstanceActorEvent, InstanceActorInput } from '../../machines/plugin.machine.js';
import type { PluginInstance } from './plugin-instance.js';

/** What the instance actor needs from the supervisor that provides it. */
export interface InstanceHost {
  /** Starts the worker of a new instance, once the host allows another thread to start. */
  start(input: InstanceActorInput): Promise<PluginInstance>;
  /** Called once the handshake succeeded, before the machine hears of it. */
  activated(instance: PluginInstance): void;
  stopTimeoutMs: number;
}

export function createInstanceActor(host: InstanceHost) {
  return fromCallback<InstanceActorEvent, InstanceActorInput>(({ input, sendBack, receive }) => {
    let instance: PluginInstance | null = null;
    let stopped = false;
    let stopRequested = false;
    host.start(input).then(
      (started) => {
        instance = started;
        if (stopped) return started.kill('stopped');
        sendBack({ type: 'THREAD_STARTED' });
        started.activate().then(
          (result) => {
            if (!started.running) return;
            host.activated(started);
            sendBack({ type: 'HANDSHAKE_OK', implements: result.implements });
          },
          () => { /* the instance has ended: its exit below reports why */ },
        );
        void started.exited.then((exit) => sendBack({ type: 'INSTANCE_EXITED', exit }));
        if (stopRequested) void started.stop(host.stopTimeoutMs);
      },
      (e: unknown) => {
        // A start refused with a reason (a socket path too long...) keeps its code.
        const error = e instanceof PlugdError
          ? e.toInfo()
          : { code: 'PLUGD_E_ACTIVATION', message: `PLUGD_E_ACTIVATION: plugin "${input.name}" could not start: ${e instanceof Error ? e.message : String(e)}` };
        sendBack({ type: 'INSTANCE_EXITED', exit: { reason: 'activation-failed', code: null, uptimeMs: 0, error } });
      },
    );
    receive((event) => {
      if (event.type !== 'STOP') return;
      if (instance) void instance.stop(host.stopTimeoutMs);
      else stopRequested = true;
    });
    // Leaving `live` (a timeout, a removal, a close) kills whatever is running or about to.
    return () => {
      stopped = true;
      instance?.kill('stopped');
    };
  });
}
