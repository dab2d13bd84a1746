// The supervisor's pool of short, stateless tasks (bundle digests and unpacking, process plugin
// handshakes), run on piscina threads. Handshakes have a pool of their own that runs many at once
// on one thread: they wait on sockets, and one plugin that never opens its socket must not hold
// a thread that another plugin's handshake waits for.
// Piscina fits here and not for hosting plugins: it may end idle threads at any time.
import { Piscina } from 'piscina';
import { PlugdError } from '../errors.js';
import type { Address } from '../docker/docker-protocol.mjs';
import type { BundleDigest } from './task-types.js';

const DIGEST_TASK = new URL('./bundle-digest.mjs', import.meta.url).href;
const HANDSHAKE_TASK = new URL('./process-handshake.mjs', import.meta.url).href;
const UNPACK_TASK = new URL('./unpack-bundle.mjs', import.meta.url).href;

/**
 * How much longer than activationTimeoutMs a handshake task may run. The plugin machine owns the
 * activation deadline (its timer counts the plugin's own time, and ends the instance with one
 * message); the task's deadline only ends a handshake nobody stopped.
 */
const HANDSHAKE_BACKSTOP_MS = 1_000;

/** Handshakes one handshake thread runs at once. */
const CONCURRENT_HANDSHAKES = 64;

/** What a handshake task answers: data, as piscina clones a thrown error without its `code`. */
export type HandshakeOutcome = { ok: true; implements: string[] } | { ok: false; code: string; message: string };

export class TaskPool {
  readonly #pool: Piscina;
  readonly #handshakes: Piscina;

  constructor(options: { maxThreads?: number } = {}) {
    // Small and lazy: installs are rare; threads end after a short idle time.
    this.#pool = new Piscina({
      filename: DIGEST_TASK,
      minThreads: 0,
      maxThreads: options.maxThreads ?? 2,
      idleTimeout: 500,
    });
    this.#handshakes = new Piscina({
      filename: HANDSHAKE_TASK,
      minThreads: 0,
      maxThreads: 1,
      concurrentTasksPerWorker: CONCURRENT_HANDSHAKES,
      // Async tasks side by side: the thread must not block on Atomics.wait between them.
      atomics: 'disabled',
      idleTimeout: 500,
    });
  }

  /**
   * The content digest of a bundle folder; PLUGD_E_BUNDLE if it cannot be read, leaves itself or
   * holds more than `maxEntries` files, folders and links.
   */
  async digestBundle(dir: string, maxEntries: number, timeoutMs = 60_000): Promise<BundleDigest> {
    try {
      return (await this.#pool.run({ dir, maxEntries }, { signal: AbortSignal.timeout(timeoutMs) })) as BundleDigest;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw new PlugdError('PLUGD_E_BUNDLE', message.replace(/^PLUGD_E_BUNDLE: /, ''), { cause: e });
    }
  }

  /**
   * Unpacks a bundle archive into `into` (an empty scratch folder) and resolves with the folder
   * that holds its plugin.json; PLUGD_E_BUNDLE for an archive that is unreadable, too big (bytes
   * or entries), holds links out, devices or entries node-tar would skip, or has no plugin.json.
   */
  async unpackBundle(
    archive: string,
    into: string,
    limits: { maxBytes: number; maxEntries: number; marker?: string },
    timeoutMs = 120_000,
  ): Promise<string> {
    type Outcome = { ok: true; dir: string } | { ok: false; message: string };
    let outcome: Outcome;
    try {
      outcome = (await this.#pool.run(
        { archive, into, maxBytes: limits.maxBytes, maxEntries: limits.maxEntries, marker: limits.marker },
        { filename: UNPACK_TASK, signal: AbortSignal.timeout(timeoutMs) },
      )) as Outcome;
    } catch (e) {
      throw new PlugdError('PLUGD_E_BUNDLE', `unpacking ${archive} did not finish: ${(e as Error).message}`, { cause: e });
    }
    if (!outcome.ok) throw new PlugdError('PLUGD_E_BUNDLE', outcome.message);
    return outcome.dir;
  }

  /**
   * Docker's handshake with a process (or discovered) plugin, retried from the moment the task
   * starts until a little after `activationTimeoutMs`. Never aborted from here: aborting a piscina
   * task ends its thread, and with it every other handshake on that thread.
   */
  handshake(address: Address, activationTimeoutMs: number): Promise<HandshakeOutcome> {
    return this.#handshakes.run({ address, timeoutMs: activationTimeoutMs + HANDSHAKE_BACKSTOP_MS }) as Promise<HandshakeOutcome>;
  }

  async close(): Promise<void> {
    await Promise.all([this.#pool.destroy(), this.#handshakes.destroy()]);
  }
}
