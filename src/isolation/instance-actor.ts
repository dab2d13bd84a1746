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
//   Spawner ──postMessage──> spawner thread ──fork──> process plugin's wrapper ──> plugin
import { fromCallback } from 'xstate';
import { PlugdError } from '../errors.js';
import type { InstanceActorEvent, InstanceActorInput } from '../../machines/plugin.machine.js';
import type { PluginInstance } from './plugin-instance.js';

/** What the instance actor needs from the supervisor that provides it. */
export interface InstanceHost {
  /**
   * Starts the worker of a new instance, once the host allows another thread to start; rejects
   * with the signal's reason if it is aborted while waiting for that.
   */
  start(input: InstanceActorInput, signal: AbortSignal): Promise<PluginInstance>;
  /** Called once the handshake succeeded, before the machine hears of it. */
  activated(instance: PluginInstance): void;
  stopTimeoutMs: number;
}

export function createInstanceActor(host: InstanceHost) {
  return fromCallback<InstanceActorEvent, InstanceActorInput>(({ input, sendBack, receive }) => {
    let instance: PluginInstance | null = null;
    let stopped = false;
    // Aborted by a STOP or a teardown that comes while the instance still waits for its start
    // slot: it then never starts a thread only to stop it.
    const waiting = new AbortController();
    host.start(input, waiting.signal).then(
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
          () => {
            /* the instance has ended: its exit below reports why */
          },
        );
        void started.exited.then((exit) => sendBack({ type: 'INSTANCE_EXITED', exit }));
        // A STOP after the slot was granted (a warm thread, a process still being set up).
        if (waiting.signal.aborted) void started.stop(host.stopTimeoutMs);
      },
      (e: unknown) => {
        if (stopped) return;
        if (waiting.signal.aborted) {
          sendBack({ type: 'INSTANCE_EXITED', exit: { reason: 'stopped', code: null, uptimeMs: 0 } });
          return;
        }
        // A start refused with a reason (a socket path too long...) keeps its code.
        const error =
          e instanceof PlugdError
            ? e.toInfo()
            : {
                code: 'PLUGD_E_ACTIVATION',
                message: `plugin "${input.name}" could not start: ${e instanceof Error ? e.message : String(e)}`,
              };
        sendBack({ type: 'INSTANCE_EXITED', exit: { reason: 'activation-failed', code: null, uptimeMs: 0, error } });
      },
    );
    receive((event) => {
      if (event.type !== 'STOP') return;
      if (instance) void instance.stop(host.stopTimeoutMs);
      else waiting.abort(new PlugdError('PLUGD_E_STATE', `plugin "${input.name}" was stopped before its instance started`));
    });
    // Leaving `live` (a timeout, a removal, a close) kills whatever is running or about to.
    return () => {
      stopped = true;
      waiting.abort(new PlugdError('PLUGD_E_STATE', `plugin "${input.name}" left live before its instance started`));
      instance?.kill('stopped');
    };
  });
}
