// Piscina task: Docker's handshake with a process plugin. Retries while the socket is not there
// yet (backoff from 10 ms to 500 ms), until the deadline; a plugin that accepts and never answers
// is cut off at the deadline too.
import { ACTIVATE, DockerCallError, dockerCall } from '../docker/docker-protocol.mjs';

/**
 * The outcome comes back as data: piscina clones a thrown error, which loses its `code`.
 * @param {{ address: import('../docker/docker-protocol.mjs').Address, deadline: number }} task
 * @returns {Promise<{ ok: true, implements: string[] } | { ok: false, code: string, message: string }>}
 */
export default async function processHandshake(task) {
  try {
    return { ok: true, implements: await handshake(task) };
  } catch (e) {
    const code = e instanceof DockerCallError ? e.code : 'PLUGD_E_ACTIVATION';
    return { ok: false, code, message: e instanceof Error ? e.message : String(e) };
  }
}

/** @param {{ address: import('../docker/docker-protocol.mjs').Address, deadline: number }} task @returns {Promise<string[]>} */
async function handshake({ address, deadline }) {
  let delay = 10;
  /** @type {unknown} */
  let last;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new DockerCallError(`no answer to ${ACTIVATE} before the deadline${last instanceof Error ? ` (last: ${last.message})` : ''}`, { code: 'PLUGD_E_ACTIVATION_TIMEOUT' });
    }
    try {
      const answer = /** @type {{ Implements?: unknown }} */ (await dockerCall(address, ACTIVATE, {}, { timeoutMs: remaining }));
      if (!Array.isArray(answer.Implements) || !answer.Implements.every((t) => typeof t === 'string')) {
        throw new DockerCallError(`${ACTIVATE} must answer { "Implements": [...] }`, { code: 'PLUGD_E_ACTIVATION' });
      }
      return answer.Implements;
    } catch (e) {
      // The call's own timeout is the deadline: an accepted connection that never answers.
      if (e instanceof DockerCallError && e.code === 'PLUGD_E_CALL_TIMEOUT') {
        throw new DockerCallError(`no answer to ${ACTIVATE} before the deadline: ${e.message}`, { code: 'PLUGD_E_ACTIVATION_TIMEOUT', cause: e });
      }
      if (!(e instanceof DockerCallError) || !e.transport) throw e;
      last = e; // not listening yet: try again
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(0, deadline - Date.now()))));
      delay = Math.min(delay * 2, 500);
    }
  }
}
