// The control API server: Fastify on a UNIX socket (mode 0600, in a folder only its owner can
// enter) or on loopback TCP behind a bearer token and a Host check. Served by `plugd daemon` and
// by any host created with `control: true`.
import { timingSafeEqual } from 'node:crypto';
import { chmod, stat, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { PlugdError } from '../errors.js';
import type { Supervisor } from '../supervisor.js';
import type { ControlListen } from './control-options.js';
import type { EventHistory } from './event-history.js';
import type { PluginFacts } from './inspect-details.js';
import { replyError, requestError } from './http-errors.js';
import { LogFollowers } from './log-follower.js';
import type { PluginMetrics } from './metrics.js';
import { DEFAULT_FOLLOWER_BUFFER, type NdjsonStream } from './ndjson-stream.js';
import { registerRoutes, type RouteContext, type RouteEntry } from './routes.js';

export const BODY_LIMIT = 1024 * 1024;

export interface ControlServerOptions {
  sup: Supervisor;
  listen: ControlListen;
  metrics: PluginMetrics;
  history: EventHistory;
  factsOf: (name: string) => PluginFacts;
  logsDir: string;
  /** The last lines of a plugin's log and where its file ended after them (the log pump's tailAt). */
  logTail: RouteContext['logTail'];
  log: Logger;
  followerBuffer?: number;
}

export class ControlServer {
  readonly #app: FastifyInstance;
  readonly #listen: ControlListen;
  readonly #followers: LogFollowers;
  readonly #streams = new Set<NdjsonStream>();
  #address = '';

  private constructor(options: ControlServerOptions) {
    this.#listen = options.listen;
    this.#followers = new LogFollowers(options.logsDir);
    const app = Fastify({
      bodyLimit: BODY_LIMIT,
      logger: false,
      forceCloseConnections: true,
      return503OnClosing: true,
      // Extra body fields are refused, not silently dropped.
      ajv: { customOptions: { removeAdditional: false } },
    });
    this.#app = app;
    app.setErrorHandler(replyError);
    if (options.listen.kind === 'tcp')
      app.addHook(
        'onRequest',
        guardTcp(options.listen, () => this.#address),
      );
    const routes = registerRoutes(app, {
      sup: options.sup,
      factsOf: options.factsOf,
      history: options.history,
      followers: this.#followers,
      logTail: options.logTail,
      metrics: options.metrics,
      followerBuffer: options.followerBuffer ?? DEFAULT_FOLLOWER_BUFFER,
      streams: this.#streams,
    });
    app.setNotFoundHandler((req, reply) => {
      const allowed = allowedMethods(routes, req.url.split('?')[0] ?? '');
      const error =
        allowed.length > 0
          ? requestError(`${req.method} is not allowed on ${req.url}; use ${allowed.join(', ')}`)
          : requestError(`no route ${req.method} ${req.url}; the API is under /v1 (GET /v1/plugins, GET /v1/version, ...)`);
      if (allowed.length > 0) void reply.header('allow', allowed.join(', '));
      void reply.code(allowed.length > 0 ? 405 : 404).send({ code: error.code, message: error.message.replace(/^PLUGD_E_REQUEST: /, '') });
    });
  }

  /** Starts serving; rejects with PLUGD_E_OPTION if the socket is taken by a live server or its folder is open to others. */
  static async start(options: ControlServerOptions): Promise<ControlServer> {
    const server = new ControlServer(options);
    try {
      await server.#start();
    } catch (e) {
      await server.#app.close().catch(() => undefined);
      throw e;
    }
    return server;
  }

  /** Where it listens: the socket path, or host:port. */
  get address(): string {
    return this.#address;
  }

  async close(): Promise<void> {
    for (const stream of this.#streams) stream.end();
    await this.#followers.close();
    await this.#app.close();
    if (this.#listen.kind === 'socket') await unlink(this.#listen.socket).catch(() => undefined);
  }

  async #start(): Promise<void> {
    const listen = this.#listen;
    if (listen.kind === 'tcp') {
      await this.#app.listen({ host: listen.host, port: listen.port }).catch((e: NodeJS.ErrnoException) => {
        // A port taken or not ours to bind is the operator's choice to change, as a taken socket is.
        if (e.code !== 'EADDRINUSE' && e.code !== 'EACCES' && e.code !== 'EADDRNOTAVAIL') throw e;
        throw new PlugdError(
          'PLUGD_E_OPTION',
          `cannot listen on ${listen.host}:${listen.port} (${e.code}): another server has that port, or it is not this process's to take`,
          {
            cause: e,
            details: { option: 'control.port' },
          },
        );
      });
      const address = this.#app.server.address() as net.AddressInfo;
      this.#address = `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      return;
    }
    await checkFolder(path.dirname(listen.socket));
    await clearStaleSocket(listen.socket);
    await this.#app.listen({ path: listen.socket });
    await chmod(listen.socket, 0o600);
    this.#address = listen.socket;
  }
}

function allowedMethods(routes: RouteEntry[], url: string): string[] {
  const parts = url.split('/');
  return routes
    .filter((r) => {
      const pattern = r.url.split('/');
      return pattern.length === parts.length && pattern.every((p, i) => (p.startsWith(':') ? parts[i] !== '' : p === parts[i]));
    })
    .map((r) => r.method);
}

/** Only the owner may enter the socket's folder: the socket's own mode is not enough on every system. */
async function checkFolder(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory())
    throw new PlugdError('PLUGD_E_OPTION', `the control socket's folder ${dir} does not exist`, { details: { option: 'control.socket' } });
  if ((info.mode & 0o077) !== 0 || (typeof process.getuid === 'function' && info.uid !== process.getuid())) {
    throw new PlugdError(
      'PLUGD_E_OPTION',
      `the control socket's folder ${dir} can be entered by other users (mode ${(info.mode & 0o777).toString(8)}); chmod ` +
        `700 it or choose another control.socket`,
      { details: { option: 'control.socket' } },
    );
  }
}

/** A socket file left by a server that died is removed; one a live server answers on is refused. */
async function clearStaleSocket(socket: string): Promise<void> {
  const exists = await stat(socket).then(
    (s) => s.isSocket(),
    () => false,
  );
  if (!exists) return;
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socket);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live)
    throw new PlugdError('PLUGD_E_OPTION', `another server listens on the control socket ${socket}`, {
      details: { option: 'control.socket' },
    });
  await unlink(socket);
}

function guardTcp(listen: Extract<ControlListen, { kind: 'tcp' }>, address: () => string) {
  const expected = Buffer.from(`Bearer ${listen.token}`);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const port = address().slice(address().lastIndexOf(':') + 1);
    const hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
    if (!hosts.includes(req.headers.host ?? '')) {
      return reply.code(403).send({ code: 'PLUGD_E_PERMISSION', message: `Host "${req.headers.host}" is not this loopback server` });
    }
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ code: 'PLUGD_E_PERMISSION', message: 'a bearer token is required (Authorization: Bearer <token>)' });
    }
    return undefined;
  };
}
