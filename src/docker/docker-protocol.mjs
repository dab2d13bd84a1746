// Docker's legacy plugin protocol: HTTP POST with JSON bodies on a UNIX socket (or TCP),
// `POST /Plugin.Activate` as the handshake, errors as a non-200 status with { "Err": "..." }.
// Plain JS so that both the main thread and the piscina handshake task can use it.
import http from 'node:http';
import https from 'node:https';

/** What Docker's engine sends as Accept (moby's transport.VersionMimetype). */
export const ACCEPT = 'application/vnd.docker.plugins.v1.2+json';
/** What a plugin answers with. */
export const PLUGIN_CONTENT_TYPE = 'application/vnd.docker.plugins.v1+json';
export const ACTIVATE = 'Plugin.Activate';
/** The largest answer a call reads before it gives up on the plugin (dockerCall's maxReplyBytes). */
export const MAX_REPLY_BYTES = 64 * 1024 * 1024;

/**
 * @typedef {{ ca?: string, cert?: string, key?: string, rejectUnauthorized: boolean }} TlsOptions
 *   PEM contents, as Docker's TLSConfig names them by file (CAFile, CertFile, KeyFile).
 * @typedef {{ socketPath: string } | { host: string, port: number, tls?: TlsOptions }} Address
 */

/**
 * An error a plugin answered with, or a failure to reach it. `code` is PLUGD_E_METHOD for a 404
 * (the SDK's answer to an unknown method, as a Go plugin's mux answers), PLUGD_E_PLUGIN_ERROR for
 * any other error answer; `status` is set whenever the plugin answered; `transport` tells a
 * connection problem (the socket is not there yet...).
 */
export class DockerCallError extends Error {
  /** @param {string} message @param {{ code: string, status?: number, transport?: boolean, cause?: unknown }} info */
  constructor(message, info) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = 'DockerCallError';
    this.code = info.code;
    this.status = info.status;
    this.transport = info.transport === true;
  }
}

/**
 * Parses `unix:///path`, `tcp://host:port`, `http://host:port` or `https://host:port` (Docker's
 * .spec and .json files); `https` asks for TLS with the system's CAs.
 * @param {string} url @returns {Address}
 */
export function parseAddress(url) {
  const text = url.trim();
  if (text.startsWith('unix://')) return { socketPath: text.slice('unix://'.length) };
  const match = /^(tcp|http|https):\/\/([^:/]+):(\d+)\/?$/.exec(text);
  if (match) {
    const address = { host: /** @type {string} */ (match[2]), port: Number(match[3]) };
    return match[1] === 'https' ? { ...address, tls: { rejectUnauthorized: true } } : address;
  }
  throw new DockerCallError(`"${text}" is not a plugin address (unix:///path.sock or tcp://host:port)`, { code: 'PLUGD_E_MANIFEST' });
}

/**
 * One call in Docker's protocol: POST /<method> with a JSON body. Resolves with the parsed answer;
 * rejects with DockerCallError for an { Err } answer, a bad answer, a timeout or no connection,
 * and with PLUGD_E_REPLY_TOO_LARGE for an answer past `maxReplyBytes` (MAX_REPLY_BYTES), read no further.
 * @param {Address} address @param {string} method @param {unknown} body
 * @param {{ timeoutMs: number, agent?: http.Agent | https.Agent, signal?: AbortSignal, maxReplyBytes?: number }} options
 * @returns {Promise<unknown>}
 */
export function dockerCall(address, method, body, options) {
  let payload;
  try {
    payload = JSON.stringify(body ?? {});
  } catch (e) {
    return Promise.reject(
      new DockerCallError(`the arguments of "${method}" cannot be sent as JSON: ${e instanceof Error ? e.message : String(e)}`, {
        code: 'PLUGD_E_CALL',
        cause: e,
      }),
    );
  }
  const { tls, ...where } = /** @type {{ tls?: TlsOptions }} */ (address);
  const transport = tls ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      {
        ...where,
        ...(tls ?? {}),
        agent: options.agent,
        method: 'POST',
        path: `/${method}`,
        headers: { Accept: ACCEPT, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
        timeout: options.timeoutMs,
        signal: options.signal,
      },
      (response) => {
        const limit = options.maxReplyBytes ?? MAX_REPLY_BYTES;
        const tooLarge = () => {
          reject(
            new DockerCallError(`"${method}" answered with more than ${limit} bytes; the answer was not read`, {
              code: 'PLUGD_E_REPLY_TOO_LARGE',
            }),
          );
          request.destroy(); // the connection is not reused: the rest of the answer is still on it
        };
        if (Number(response.headers['content-length']) > limit) return tooLarge();
        const chunks = /** @type {Buffer[]} */ ([]);
        let received = 0;
        response.on('data', (chunk) => {
          received += chunk.length;
          if (received > limit) tooLarge();
          else chunks.push(chunk);
        });
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode;
          const code = status === 404 ? 'PLUGD_E_METHOD' : 'PLUGD_E_PLUGIN_ERROR';
          let answer;
          try {
            answer = text === '' ? {} : JSON.parse(text);
          } catch {
            return reject(
              new DockerCallError(`"${method}" answered ${status} with a body that is not JSON: ${text.slice(0, 200)}`, { code, status }),
            );
          }
          const err = answer && typeof answer === 'object' ? answer.Err : undefined;
          if (status !== 200 || (typeof err === 'string' && err !== '')) {
            const message = typeof err === 'string' && err !== '' ? err : `HTTP ${status}`;
            return reject(new DockerCallError(message, { code, status }));
          }
          resolve(answer);
        });
        response.on('error', (e) =>
          reject(new DockerCallError(`"${method}": ${e.message}`, { code: 'PLUGD_E_PLUGIN_ERROR', transport: true, cause: e })),
        );
      },
    );
    request.on('timeout', () =>
      request.destroy(new DockerCallError(`"${method}" did not answer within ${options.timeoutMs} ms`, { code: 'PLUGD_E_CALL_TIMEOUT' })),
    );
    request.on('error', (e) => {
      if (e instanceof DockerCallError) return reject(e);
      // A certificate that does not verify will not verify on a retry either.
      const transport = !isTlsRefusal(e);
      reject(
        new DockerCallError(`cannot reach the plugin for "${method}": ${e.message}`, { code: 'PLUGD_E_NOT_RUNNING', transport, cause: e }),
      );
    });
    request.end(payload);
  });
}

/**
 * Whether a request failed on TLS itself: the plugin's certificate did not verify (OpenSSL's
 * X509 codes, ERR_TLS_*), or the plugin refused ours (ERR_SSL_* alerts).
 * @param {Error & { code?: unknown }} e
 */
function isTlsRefusal(e) {
  return typeof e.code === 'string' && /CERT|SIGNATURE|^ERR_TLS_|^ERR_SSL_/.test(e.code);
}
