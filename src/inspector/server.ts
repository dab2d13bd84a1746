// The inspector's HTTP server on 127.0.0.1: the page, the live feed (SSE), charts, and the plugin
// actions and logs, which it passes to the control API (never a second path into the supervisor).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RefusedError, type ApiClient } from '../cli/api-client.js';
import type { ActorStore } from './actor-store.js';
import { chartOf } from './chart-layout.js';
import type { FeedMessage } from './inspection-events.js';
import { PAGE_HTML, pageScript } from './page-assets.js';
import { judge } from './request-guard.js';

/** A page that reads slower than this many buffered bytes is cut off (it reconnects and starts over). */
const MAX_BUFFERED = 4 * 1024 * 1024;
const ACTIONS = new Set(['enable', 'disable', 'restart']);

export interface InspectorServerOptions {
  port: number;
  token: string;
  store: ActorStore;
  api: ApiClient | null;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function sse(res: ServerResponse): (data: unknown) => boolean {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  res.write(': plugd inspector\n\n');
  return (data) => {
    if (res.writableLength > MAX_BUFFERED) {
      res.destroy();
      return false;
    }
    res.write(`data: ${JSON.stringify(data)}\n\n`);
    return true;
  };
}

/** Actors go to the page without their definition: the page asks for the laid-out chart instead. */
function forPage(message: FeedMessage): FeedMessage {
  if (message.type !== '@xstate.actor' || message.definition === undefined) return message;
  const { definition: _definition, ...rest } = message;
  return rest as FeedMessage;
}

export class InspectorServer {
  readonly #options: InspectorServerOptions;
  readonly #server: http.Server;
  readonly #open = new Set<ServerResponse>();
  #port = 0;

  private constructor(options: InspectorServerOptions) {
    this.#options = options;
    this.#server = http.createServer((req, res) => {
      this.#handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) json(res, 500, { code: 'INSPECTOR', message: (e as Error).message });
        else res.destroy();
      });
    });
  }

  static async start(options: InspectorServerOptions): Promise<InspectorServer> {
    const server = new InspectorServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(options.port, '127.0.0.1', () => resolve());
    });
    server.#port = (server.#server.address() as AddressInfo).port;
    return server;
  }

  get port(): number {
    return this.#port;
  }

  /** The URL to open, with the one-time token. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}/?token=${this.#options.token}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const verdict = judge(req, url, this.#port, this.#options.token);
    if (verdict === 'bad-host' || verdict === 'bad-origin')
      return json(res, 403, { code: 'INSPECTOR_HOST', message: 'the inspector answers only to 127.0.0.1 or localhost on its own port' });
    if (verdict === 'no-token')
      return json(res, 401, { code: 'INSPECTOR_TOKEN', message: 'open the URL with ?token= that `plugd inspector` printed' });
    if (verdict !== 'ok') {
      res.writeHead(302, { 'set-cookie': verdict.setCookie, location: verdict.location });
      return void res.end();
    }
    const { store, api } = this.#options;
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return void res.end(PAGE_HTML);
    }
    if (req.method === 'GET' && url.pathname === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      return void res.end(await pageScript());
    }
    if (req.method === 'GET' && url.pathname === '/feed') return this.#feed(res);
    if (req.method === 'GET' && url.pathname === '/chart') {
      const record = store.actor(url.searchParams.get('session') ?? '');
      if (!record?.actor.definition) return json(res, 404, { code: 'INSPECTOR_NO_CHART', message: 'that actor has no machine definition' });
      return json(res, 200, await chartOf(record.actor.definition));
    }
    if (parts[0] === 'api' && parts[1] === 'plugins' && parts[2] !== undefined && api) {
      const name = encodeURIComponent(parts[2]);
      if (req.method === 'GET' && parts.length === 3) return this.#proxy(res, () => api.request('GET', `/v1/plugins/${name}`));
      if (req.method === 'GET' && parts[3] === 'logs' && parts.length === 4) return this.#logs(req, res, api, name);
      if (req.method === 'POST' && parts.length === 4 && ACTIONS.has(parts[3]!))
        return this.#proxy(res, () => api.request('POST', `/v1/plugins/${name}/${parts[3]}`));
    }
    json(res, 404, { code: 'INSPECTOR_NOT_FOUND', message: `no route ${req.method} ${url.pathname}` });
  }

  #feed(res: ServerResponse): void {
    const send = sse(res);
    this.#open.add(res);
    const unsubscribe = this.#options.store.subscribe((message) => {
      send(forPage(message));
    });
    res.on('close', () => {
      unsubscribe();
      this.#open.delete(res);
    });
  }

  async #proxy(res: ServerResponse, call: () => Promise<unknown>): Promise<void> {
    try {
      json(res, 200, await call());
    } catch (e) {
      if (e instanceof RefusedError) return json(res, e.status, { code: e.code, message: e.message });
      json(res, 502, { code: 'INSPECTOR_CONTROL', message: (e as Error).message });
    }
  }

  #logs(req: IncomingMessage, res: ServerResponse, api: ApiClient, name: string): void {
    const send = sse(res);
    this.#open.add(res);
    const stop = new AbortController();
    res.on('close', () => {
      stop.abort();
      this.#open.delete(res);
    });
    api
      .feed(
        `/v1/plugins/${name}/logs?tail=100&follow=1`,
        (line) => {
          if (!send(line)) stop.abort();
        },
        stop.signal,
      )
      .catch((e: unknown) => send({ msg: `log feed ended: ${(e as Error).message}` }))
      .finally(() => res.end());
    void req;
  }

  async close(): Promise<void> {
    for (const res of this.#open) res.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
