// The raw baseline: a bare worker that loads the plugin module, answers one handshake message,
// then answers calls. The physical floor plugd is measured against.
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
const plugin = (await import(pathToFileURL(workerData.entry).href)).default;
port.on('message', async (/** @type {{ type: string, id?: number, method?: string, args?: unknown }} */ msg) => {
  if (msg.type === 'channel') {
    // The stricter floor: a dedicated MessageChannel with array messages, as plugd's call channel.
    const channel = /** @type {import('node:worker_threads').MessagePort} */ (/** @type {any} */ (msg).port);
    channel.on('message', ([id, method, args]) => {
      Promise.resolve(plugin.methods[method](args)).then((value) => channel.postMessage([id, value]));
    });
  } else if (msg.type === 'activate') {
    const answer = await plugin.activate();
    port.postMessage({ type: 'activated', implements: answer.Implements });
  } else if (msg.type === 'call') {
    port.postMessage({ type: 'result', id: msg.id, value: await plugin.methods[/** @type {string} */ (msg.method)](msg.args) });
  }
});
