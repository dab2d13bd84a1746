// The CLI's side of the control API: JSON requests and NDJSON feeds over the UNIX socket, or over
// loopback TCP with a bearer token.
import http from 'node:http';
import { describe, type Endpoint } from './endpoint.js';

/** No daemon (nor control-serving host) answers at the endpoint: exit code 3. */
export class NoDaemonError extends Error {
  constructor(
    /** The socket path or URL tried. */
    readonly address: string,
    cause: unknown,
  ) {
    const start = address.startsWith('http://') ? '`plugd daemon --listen`' : '`plugd daemon`';
    super(
      `no plugd daemon answers on ${address} (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}); ` +
        `start one with ${start}, or run a host with control: true`,
    );
  }
}

/** The daemon refused: exit code 1, with the error's code. */
export class RefusedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'EACCES', 'ECONNRESET', 'EADDRNOTAVAIL', 'ENETUNREACH']);

function send(
  endpoint: Endpoint,
  method: string,
  path: string,
  body: unknown,
  onResponse: (res: http.IncomingMessage) => void,
): http.ClientRequest {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: http.OutgoingHttpHeaders = payload === undefined ? {} : { 'content-type': 'application/json' };
  let req: http.ClientRequest;
  if (endpoint.kind === 'socket') {
    req = http.request({ socketPath: endpoint.socket, method, path, headers }, onResponse);
  } else {
    if (endpoint.token) headers.authorization = `Bearer ${endpoint.token.value}`;
    req = http.request(new URL(path, endpoint.url), { method, headers }, onResponse);
  }
  req.end(payload);
  return req;
}

function failure(endpoint: Endpoint, e: unknown): Error {
  return UNREACHABLE.has((e as NodeJS.ErrnoException).code ?? '') ? new NoDaemonError(describe(endpoint), e) : (e as Error);
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk;
  return text;
}

function refused(endpoint: Endpoint, status: number, text: string): RefusedError {
  if (status === 401 && endpoint.kind === 'tcp') return unauthorized(endpoint);
  try {
    const body = JSON.parse(text) as { code?: string; message?: string };
    return new RefusedError(body.code ?? `HTTP_${status}`, body.message ?? text, status);
  } catch {
    return new RefusedError(`HTTP_${status}`, text, status);
  }
}

/** The daemon's 401, said once in words an operator can act on. */
function unauthorized(endpoint: Endpoint & { kind: 'tcp' }): RefusedError {
  const origin = endpoint.url.origin;
  const message = endpoint.token
    ? `the daemon at ${origin} refused the token from ${endpoint.token.from}: it is not this daemon's token ` +
      `(one it generated is in its <root>/control.token, new at each start)`
    : `the daemon at ${origin} wants a bearer token and none was given: put it in $PLUGD_TOKEN or pass --token-file ` +
      `(plugd daemon --listen writes a generated one to <root>/control.token)`;
  return new RefusedError('PLUGD_E_PERMISSION', message, 401);
}

export class ApiClient {
  readonly endpoint: Endpoint;

  /** `target`: the socket path, or an endpoint (socket or loopback URL with its token). */
  constructor(target: string | Endpoint) {
    this.endpoint = typeof target === 'string' ? { kind: 'socket', socket: target } : target;
  }

  /** The socket path or URL, for messages. */
  get address(): string {
    return describe(this.endpoint);
  }

  /**
   * One request; resolves with the parsed JSON (or text) of a 2xx answer, rejects with RefusedError
   * or NoDaemonError. Once `signal` aborts, the request is ended (its socket closed) and this
   * rejects with the signal's reason.
   */
  request<T = unknown>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const req = send(this.endpoint, method, path, body, (res) => {
        readAll(res).then((text) => {
          const status = res.statusCode ?? 0;
          if (status >= 400) return reject(refused(this.endpoint, status, text));
          const json = (res.headers['content-type'] ?? '').startsWith('application/json');
          resolve((json && text !== '' ? JSON.parse(text) : text) as T);
        }, reject);
      });
      req.on('error', (e) => reject(signal?.aborted ? signal.reason : failure(this.endpoint, e)));
      if (signal === undefined) return;
      const end = (): void => {
        reject(signal.reason);
        req.destroy();
      };
      signal.addEventListener('abort', end, { once: true });
      req.once('close', () => signal.removeEventListener('abort', end));
    });
  }

  /** An NDJSON feed: `onLine` gets each parsed line; resolves when the daemon ends it (or on `signal`). */
  feed(path: string, onLine: (line: Record<string, unknown>) => void, signal?: AbortSignal): Promise<void> {
    let abort: (() => void) | null = null;
    const settled = new Promise<void>((resolve, reject) => {
      const req = send(this.endpoint, 'GET', path, undefined, (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          readAll(res).then((text) => reject(refused(this.endpoint, res.statusCode ?? 0, text)), reject);
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          buffered += text;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) !== -1) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            if (line.trim() !== '') onLine(JSON.parse(line) as Record<string, unknown>);
          }
        });
        res.on('end', () => resolve());
        res.on('close', () => resolve());
      });
      req.on('error', (e) => (signal?.aborted ? resolve() : reject(failure(this.endpoint, e))));
      abort = () => {
        req.destroy();
        resolve();
      };
      signal?.addEventListener('abort', abort, { once: true });
    });
    // A caller may keep one signal for many feeds (the inspector's reconnects): each takes its listener off.
    const done = () => {
      if (abort) signal?.removeEventListener('abort', abort);
    };
    settled.then(done, done);
    return settled;
  }

  /** Whether anything answers at the endpoint. */
  async reachable(): Promise<boolean> {
    try {
      await this.request('GET', '/v1/version');
      return true;
    } catch (e) {
      if (e instanceof NoDaemonError) return false;
      throw e;
    }
  }
}
