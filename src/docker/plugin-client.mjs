// One client for one plugin at one address, in Docker's plugin protocol (moby's
// pkg/plugins/client.go): calls, the handshake with its retries, over one keep-alive agent, and
// health probes, on a socket of their own (probe-socket.mjs) unless the plugin speaks TLS.
// Plain JS: the handshake runs on the task pool, calls on the main thread.
import { watch } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { ACTIVATE, DockerCallError, dockerCall } from './docker-protocol.mjs';
import { ProbeSocket } from './probe-socket.mjs';

/** @typedef {import('./docker-protocol.mjs').Address} Address */

/**
 * The handshake's retry backoff: from 10 ms, doubling, capped at 500 ms. On a UNIX socket, the
 * socket's appearance in its folder (inotify) retries at once, whatever the backoff has reached.
 */
const FIRST_RETRY_MS = 10;
const MAX_RETRY_MS = 500;

export class DockerPluginClient {
  /** @param {Address} address */
  constructor(address) {
    this.address = address;
    const options = { keepAlive: true, maxSockets: 64 };
    this.agent = 'tls' in address && address.tls ? new https.Agent(options) : new http.Agent(options);
    /** @type {ProbeSocket | null} */
    this.probes = null;
  }

  /**
   * POST /<method> with a JSON body. Resolves with the parsed answer; rejects with
   * DockerCallError for an { Err } answer, a bad answer, a timeout or no connection.
   * @param {string} method @param {unknown} body @param {number} timeoutMs
   */
  call(method, body, timeoutMs) {
    return dockerCall(this.address, method, body, { timeoutMs, agent: this.agent });
  }

  /**
   * Docker's handshake: `Plugin.Activate`, retried while the socket is not there yet, until
   * `timeoutMs` from now (from this attempt's start, never from a queue's). Resolves with the
   * plugin's Implements; rejects with DockerCallError (PLUGD_E_ACTIVATION_TIMEOUT when time ran
   * out, whether the socket never appeared or the plugin accepted and never answered).
   * @param {number} timeoutMs @returns {Promise<string[]>}
   */
  async activate(timeoutMs) {
    const appears = socketAppears(this.address);
    try {
      return await this.#activate(timeoutMs, appears);
    } finally {
      appears.close();
    }
  }

  /** @param {number} timeoutMs @param {ReturnType<typeof socketAppears>} appears @returns {Promise<string[]>} */
  async #activate(timeoutMs, appears) {
    const deadline = Date.now() + timeoutMs;
    let delay = FIRST_RETRY_MS;
    /** @type {unknown} */
    let last;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new DockerCallError(
          `no answer to ${ACTIVATE} within ${timeoutMs} ms${last instanceof Error ? ` (last: ${last.message})` : ''}`,
          { code: 'PLUGD_E_ACTIVATION_TIMEOUT' },
        );
      }
      try {
        const answer = /** @type {{ Implements?: unknown }} */ (await this.call(ACTIVATE, {}, remaining));
        if (!Array.isArray(answer.Implements) || !answer.Implements.every((t) => typeof t === 'string')) {
          throw new DockerCallError(`${ACTIVATE} must answer { "Implements": [...] }`, { code: 'PLUGD_E_ACTIVATION' });
        }
        return answer.Implements;
      } catch (e) {
        // The call's own timeout is the deadline: an accepted connection that never answers.
        if (e instanceof DockerCallError && e.code === 'PLUGD_E_CALL_TIMEOUT') {
          throw new DockerCallError(`no answer to ${ACTIVATE} within ${timeoutMs} ms: ${e.message}`, {
            code: 'PLUGD_E_ACTIVATION_TIMEOUT',
            cause: e,
          });
        }
        if (!(e instanceof DockerCallError) || !e.transport) throw e;
        last = e; // not listening yet: try again
        const woken = await appears.wait(Math.min(delay, Math.max(0, deadline - Date.now())));
        delay = woken ? FIRST_RETRY_MS : Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  }

  /**
   * A health probe: a handshake that must answer within `timeoutMs`. False only when the plugin
   * cannot be reached or does not answer in time (an { Err } answer still shows it is alive).
   * @param {number} timeoutMs @returns {Promise<boolean>}
   */
  async probe(timeoutMs) {
    const { address } = this;
    if (!('tls' in address && address.tls)) {
      this.probes ??= new ProbeSocket(address);
      return this.probes.probe(timeoutMs);
    }
    try {
      await this.call(ACTIVATE, {}, timeoutMs);
      return true;
    } catch (e) {
      // Only an answer shows it alive: a timeout, a lost connection or a TLS refusal do not.
      return e instanceof DockerCallError && e.status !== undefined && !e.transport;
    }
  }

  /** Closes the kept-alive connections. */
  close() {
    this.agent.destroy();
    this.probes?.close();
  }
}

/**
 * Watches the folder of a UNIX socket: `wait(ms)` resolves after `ms`, or sooner, with true, once
 * something happened to the socket's name there since the last wait (level, not edge: an event
 * during an attempt is kept for the next wait). Without a socket path, or a folder to watch, it
 * only waits.
 * @param {Address} address
 */
export function socketAppears(address) {
  let seen = false;
  /** @type {(() => void) | null} */
  let wake = null;
  /** @type {import('node:fs').FSWatcher | null} */
  let watcher = null;
  if ('socketPath' in address) {
    const name = path.basename(address.socketPath);
    try {
      watcher = watch(path.dirname(address.socketPath), { persistent: false }, (_event, file) => {
        if (file !== null && file !== name) return;
        seen = true;
        wake?.();
      });
      watcher.on('error', () => watcher?.close());
    } catch {
      watcher = null; // no folder (yet): the backoff alone
    }
  }
  return {
    /** @param {number} ms @returns {Promise<boolean>} */
    wait(ms) {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wake = null;
          const woken = seen;
          seen = false;
          resolve(woken);
        };
        const timer = setTimeout(done, seen ? 0 : ms);
        wake = done;
      });
    },
    close() {
      watcher?.close();
    },
  };
}
