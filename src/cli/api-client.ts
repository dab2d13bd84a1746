// The CLI's side of the control API: JSON requests and NDJSON feeds over the UNIX socket.
import http from 'node:http';

/** No daemon (nor control-serving host) answers on the socket: exit code 3. */
export class NoDaemonError extends Error {
  constructor(
    readonly socket: string,
    cause: unknown,
  ) {
    super(
      `no plugd daemon answers on ${socket} (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}); ` +
        `start one with \`plugd daemon\`, or run a host with control: true`,
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

const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'EACCES', 'ECONNRESET']);

function send(
  socket: string,
  method: string,
  path: string,
  body: unknown,
  onResponse: (res: http.IncomingMessage) => void,
): http.ClientRequest {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const req = http.request(
    { socketPath: socket, method, path, headers: payload === undefined ? {} : { 'content-type': 'application/json' } },
    onResponse,
  );
  req.end(payload);
  return req;
}

function failure(socket: string, e: unknown): Error {
  return UNREACHABLE.has((e as NodeJS.ErrnoException).code ?? '') ? new NoDaemonError(socket, e) : (e as Error);
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk;
  return text;
}

function refused(status: number, text: string): RefusedError {
  try {
    const body = JSON.parse(text) as { code?: string; message?: string };
    return new RefusedError(body.code ?? `HTTP_${status}`, body.message ?? text, status);
  } catch {
    return new RefusedError(`HTTP_${status}`, text, status);
  }
}

export class ApiClient {
  constructor(readonly socket: string) {}

  /** One request; resolves with the parsed JSON (or text) of a 2xx answer, rejects with RefusedError or NoDaemonError. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = send(this.socket, method, path, body, (res) => {
        readAll(res).then((text) => {
          const status = res.statusCode ?? 0;
          if (status >= 400) return reject(refused(status, text));
          const json = (res.headers['content-type'] ?? '').startsWith('application/json');
          resolve((json && text !== '' ? JSON.parse(text) : text) as T);
        }, reject);
      });
      req.on('error', (e) => reject(failure(this.socket, e)));
    });
  }

  /** An NDJSON feed: `onLine` gets each parsed line; resolves when the daemon ends it (or on `signal`). */
  feed(path: string, onLine: (line: Record<string, unknown>) => void, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = send(this.socket, 'GET', path, undefined, (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          readAll(res).then((text) => reject(refused(res.statusCode ?? 0, text)), reject);
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
      req.on('error', (e) => (signal?.aborted ? resolve() : reject(failure(this.socket, e))));
      signal?.addEventListener(
        'abort',
        () => {
          req.destroy();
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Whether anything answers on the socket. */
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
