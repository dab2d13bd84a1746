// A plugin worker thread and its control plane: the one place that decides a plugin thread's
// options, for cold starts and the warm pool's standby threads alike, and the comlink proxy
// (PluginWorkerApi) that every control message goes through, from the standby's readiness to
// the last deactivate(). Every message the thread posts is checked before comlink sees it.
import { existsSync } from 'node:fs';
import { type MessagePort, Worker } from 'node:worker_threads';
import { type Endpoint, type Remote, wrap } from 'comlink/dist/esm/comlink.mjs';
import { isControlReply, type PluginInit, type PluginWorkerApi, type WorkerBoot } from './protocol.js';
import { registerHostErrorTransfer } from './remote-errors.js';

// The one-file bundle (scripts/build-worker.mjs, run by `npm install`) starts ~4 ms faster per
// thread than the entry's modules; the modules themselves are the fallback.
const BUNDLED = new URL('./entry/plugin-worker.bundle.mjs', import.meta.url);
const ENTRY = existsSync(BUNDLED) ? BUNDLED : new URL('./entry/plugin-worker.mjs', import.meta.url);

export interface PluginThreadOptions {
  memoryLimitMb: number;
  nice: number;
  /** Node flags for plugin threads. Not inherited from the host: its loaders (tsx...) are not the plugins'. */
  execArgv: string[];
}

export class PluginThread {
  readonly worker: Worker;
  /** The control plane; what it throws arrives as rebuilt by remote-errors.ts. */
  readonly api: Remote<PluginWorkerApi>;
  /**
   * Hears of a message on the control channel that answers no request made (or cannot be read).
   * A standby thread is terminated; the instance that takes the thread puts its own handler here.
   */
  onMalformed: (what: unknown) => void = () => {
    void this.worker.terminate();
  };
  /** Ids of the control requests not answered yet: a reply must name one of them. */
  readonly #asked = new Set<string>();

  /** Starts a thread that runs `init` at once, or a standby thread when `init` is null. */
  constructor(init: PluginInit | null, options: PluginThreadOptions, label: string) {
    registerHostErrorTransfer();
    const boot: WorkerBoot = { nice: options.nice, init };
    const transferList: MessagePort[] = init ? [init.logPort, init.callPort] : [];
    this.worker = new Worker(ENTRY, {
      name: `plugd:${label}`,
      workerData: boot,
      transferList,
      // Only what plugd grants: a standby thread starts empty and takes its plugin's env later.
      env: init ? init.env : {},
      argv: init ? init.args : [],
      execArgv: options.execArgv,
      // The plugin's stdio is captured inside the worker; nothing should reach the host's.
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: options.memoryLimitMb },
    });
    this.worker.stdout.resume();
    this.worker.stderr.resume();
    this.worker.on('messageerror', (e) => this.onMalformed(e));
    this.api = wrap<PluginWorkerApi>(this.#controlEndpoint());
  }

  /**
   * Resolves true once a standby thread's entry has loaded (it answered ready()), false if the
   * thread ended first (a comlink call never settles when its thread dies, comlink #601).
   */
  ready(): Promise<boolean> {
    return new Promise((resolve) => {
      const ended = () => resolve(false);
      this.worker.once('exit', ended);
      this.api.ready().then(
        () => {
          this.worker.off('exit', ended);
          resolve(true);
        },
        () => {
          this.worker.off('exit', ended);
          resolve(false);
        },
      );
    });
  }

  /** comlink's endpoint on the worker: it lets through only replies to the requests comlink made. */
  #controlEndpoint(): Endpoint {
    const listeners = new Map<unknown, (data: unknown) => void>();
    return {
      postMessage: (message: { id?: unknown }, transferList) => {
        if (typeof message.id === 'string') this.#asked.add(message.id);
        this.worker.postMessage(message, transferList as never);
      },
      addEventListener: (_type, handler) => {
        const listener = (data: unknown) => {
          if (!isControlReply(data) || !this.#asked.delete(data.id)) return this.onMalformed(data);
          if (typeof handler === 'function') handler({ data } as MessageEvent);
          else handler.handleEvent({ data } as MessageEvent);
        };
        listeners.set(handler, listener);
        this.worker.on('message', listener);
      },
      removeEventListener: (_type, handler) => {
        const listener = listeners.get(handler);
        if (listener) this.worker.off('message', listener);
        listeners.delete(handler);
      },
    };
  }
}
