// What a plugin author imports to serve Docker's plugin protocol from Node: an HTTP server on a
// UNIX socket (mode 0600) that answers the handshake and dispatches each POST to a handler.
// Plain JS with JSDoc types, so that a process plugin can load it with no build step: inside
// the plugins plugd runs, 'plugd/sdk' resolves to the host's copy (and $PLUGD_SDK is its URL).
import { chmod, rm } from 'node:fs/promises';
import http from 'node:http';
import { ACTIVATE, PLUGIN_CONTENT_TYPE } from '../docker/docker-protocol.mjs';

/**
 * @typedef {(body: any) => unknown} PluginHandler
 * @typedef {{
 *   socket?: string,
 *   port?: number,
 *   host?: string,
 *   implements: string[],
 *   handlers: Record<string, PluginHandler>,
 *   maxBodyBytes?: number,
 * }} ServePluginOptions
 *   `socket` defaults to $PLUGD_SOCKET (set by plugd); `port` serves TCP instead; `implements` is
 *   what the handshake announces; `handlers` are by method ('VolumeDriver.Create'); bodies over
 *   `maxBodyBytes` (default 1 MiB) are refused.
 * @typedef {{ address: string | number, close(): Promise<void> }} PluginServer
 */

/** @param {http.ServerResponse} response @param {number} status @param {unknown} body */
function send(response, status, body) {
  const text = JSON.stringify(body ?? {});
  response.writeHead(status, { 'Content-Type': PLUGIN_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

/** @param {http.IncomingMessage} request @param {number} limit @returns {Promise<unknown>} */
function readBody(request, limit) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    request.on('data', (/** @type {Buffer} */ chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`request body exceeds ${limit} bytes`));
        request.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      try {
        resolve(text === '' ? {} : JSON.parse(text));
      } catch {
        reject(new Error('request body is not JSON'));
      }
    });
    request.on('error', reject);
  });
}

/**
 * Serves a plugin in Docker's protocol. Resolves once it listens.
 *
 * @example
 * import { servePlugin } from 'plugd/sdk';
 * await servePlugin({
 *   implements: ['VolumeDriver'],
 *   handlers: { 'VolumeDriver.Create': async ({ Name }) => ({}) },
 * });
 * @param {ServePluginOptions} options
 * @returns {Promise<PluginServer>}
 */
export async function servePlugin(options) {
  const socket = options.port === undefined ? (options.socket ?? process.env.PLUGD_SOCKET) : undefined;
  if (options.port === undefined && !socket)
    throw new Error('servePlugin: give { socket } or { port }, or run under plugd, which sets PLUGD_SOCKET');
  if (!Array.isArray(options.implements)) throw new Error('servePlugin: { implements } must list the capabilities, e.g. ["VolumeDriver"]');
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const server = http.createServer((request, response) => {
    const method = (request.url ?? '/').replace(/^\//, '').split('?')[0] ?? '';
    if (request.method !== 'POST') return send(response, 405, { Err: `use POST /${method}` });
    readBody(request, limit).then(
      async (body) => {
        if (method === ACTIVATE) return send(response, 200, { Implements: options.implements });
        // Object.hasOwn: a method named "constructor" or "__proto__" is not a handler.
        const handler = Object.hasOwn(options.handlers, method) ? options.handlers[method] : undefined;
        if (!handler)
          return send(response, 404, {
            Err: `unknown method "${method}"; this plugin serves: ${[ACTIVATE, ...Object.keys(options.handlers)].join(', ')}`,
          });
        try {
          send(response, 200, (await handler(body)) ?? {});
        } catch (e) {
          send(response, 500, { Err: e instanceof Error ? e.message : String(e) });
        }
      },
      (/** @type {Error} */ e) => send(response, 400, { Err: e.message }),
    );
  });
  if (socket) await rm(socket, { force: true }); // a socket left by a previous run
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    if (socket) server.listen(socket, () => resolve(undefined));
    else server.listen(options.port, options.host ?? '127.0.0.1', () => resolve(undefined));
  });
  if (socket) await chmod(socket, 0o600); // reachable only by the user that runs the host
  return {
    address: socket ?? /** @type {import('node:net').AddressInfo} */ (server.address()).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      }),
  };
}
