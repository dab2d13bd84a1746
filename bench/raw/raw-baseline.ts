// Main-thread side of the raw baseline: cold activations and postMessage round trips with bare
// worker_threads, nothing of plugd in the way.
import { MessageChannel, Worker } from 'node:worker_threads';

const RAW_WORKER = new URL('./raw-worker.mjs', import.meta.url);

export interface RawActivations {
  totalMs: number;
  latencies: number[];
  workers: Worker[];
}

/** Starts `n` raw workers at once; each counts from its spawn to its handshake answer. */
export async function rawColdActivations(n: number, entry: string): Promise<RawActivations> {
  const t0 = performance.now();
  const latencies: number[] = [];
  const workers: Worker[] = [];
  await Promise.all(
    Array.from({ length: n }, () => {
      const start = performance.now();
      // execArgv: [] as plugd gives its plugin threads: the bench runs under tsx, the floor must not.
      const worker = new Worker(RAW_WORKER, { workerData: { entry }, execArgv: [] });
      workers.push(worker);
      return new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        worker.once('message', () => {
          latencies.push(performance.now() - start);
          resolve();
        });
        worker.postMessage({ type: 'activate' });
      });
    }),
  );
  return { totalMs: performance.now() - t0, latencies, workers };
}

/** A raw worker that answers calls: `call()` is one postMessage round trip. */
export async function rawCaller(entry: string) {
  const {
    workers: [worker],
  } = await rawColdActivations(1, entry);
  const pending = new Map<number, (value: unknown) => void>();
  let seq = 0;
  worker!.on('message', (msg: { type: string; id: number; value: unknown }) => {
    if (msg.type !== 'result') return;
    pending.get(msg.id)?.(msg.value);
    pending.delete(msg.id);
  });
  return {
    call(method: string, args: unknown): Promise<unknown> {
      const id = ++seq;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        worker!.postMessage({ type: 'call', id, method, args });
      });
    },
    close: () => worker!.terminate(),
  };
}

/** The stricter floor for calls: the same worker, over a dedicated MessageChannel with arrays. */
export async function rawChannelCaller(entry: string) {
  const {
    workers: [worker],
  } = await rawColdActivations(1, entry);
  const { port1, port2 } = new MessageChannel();
  worker!.postMessage({ type: 'channel', port: port2 }, [port2]);
  const pending = new Map<number, (value: unknown) => void>();
  let seq = 0;
  port1.on('message', ([id, value]: [number, unknown]) => {
    pending.get(id)?.(value);
    pending.delete(id);
  });
  return {
    call(method: string, args: unknown): Promise<unknown> {
      const id = ++seq;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        port1.postMessage([id, method, args]);
      });
    },
    async close() {
      port1.close();
      await worker!.terminate();
    },
  };
}
