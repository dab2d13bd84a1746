// Piscina task: Docker's handshake with a process (or discovered) plugin, through its client.
// Its time counts from the moment this task starts, not from when it was queued. Handshakes
// wait on sockets, not on the CPU: the pool runs many at once on one thread (task-pool.ts).
import { DockerCallError } from '../docker/docker-protocol.mjs';
import { DockerPluginClient } from '../docker/plugin-client.mjs';

/**
 * The outcome comes back as data: piscina clones a thrown error, which loses its `code`.
 * @param {{ address: import('../docker/docker-protocol.mjs').Address, timeoutMs: number }} task
 * @returns {Promise<{ ok: true, implements: string[] } | { ok: false, code: string, message: string }>}
 */
export default async function processHandshake({ address, timeoutMs }) {
  const client = new DockerPluginClient(address);
  try {
    return { ok: true, implements: await client.activate(timeoutMs) };
  } catch (e) {
    const code = e instanceof DockerCallError ? e.code : 'PLUGD_E_ACTIVATION';
    return { ok: false, code, message: e instanceof Error ? e.message : String(e) };
  } finally {
    client.close();
  }
}
