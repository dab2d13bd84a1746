// The /v1 routes, after Docker's /plugins API: each validates its input by schema and hands the
// work to the supervisor's public methods; errors go through http-errors.ts.
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isNpmSpec } from '../store/registry/npm-spec.js';
import type { InstallOptions } from '../runtime/installs.js';
import type { Supervisor } from '../supervisor.js';
import type { EventHistory } from './event-history.js';
import { inspectDetails, type PluginFacts } from './inspect-details.js';
import type { LogCut, LogLine } from '../logs/pump-protocol.js';
import type { LogFollowers } from './log-follower.js';
import type { PluginMetrics } from './metrics.js';
import { NdjsonStream } from './ndjson-stream.js';
import { parseSince } from './since.js';
import { plugdVersion } from './version.js';

export interface RouteContext {
  sup: Supervisor;
  /** The facts about a plugin inspect() does not give (its actor's context, its grants). */
  factsOf: (name: string) => PluginFacts;
  history: EventHistory;
  followers: LogFollowers;
  /** The last lines of a plugin's log (by id) and where its file ended just after them. */
  logTail: (id: string, lines: number) => Promise<{ lines: LogLine[]; end: LogCut }>;
  metrics: PluginMetrics;
  /** Bytes a follower may leave unread before its lines are dropped. */
  followerBuffer: number;
  /** Open followers, ended when the server closes. */
  streams: Set<NdjsonStream>;
}

export interface RouteEntry {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
}

const flag = { type: 'string', enum: ['1', '0', 'true', 'false'] } as const;
const isSet = (v: string | undefined) => v === '1' || v === 'true';
const name = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
const bundleBody = {
  type: 'object',
  required: ['path'],
  additionalProperties: false,
  properties: {
    path: { type: 'string', minLength: 1, maxLength: 4096 },
    grantPermissions: { type: 'boolean' },
    allowScripts: { type: 'boolean' },
  },
} as const;
type BundleBody = { path: string; grantPermissions?: boolean; allowScripts?: boolean };

/** What an install or upgrade request asks for; the client hanging up before the answer cancels it. */
function installOptions(body: BundleBody, reply: FastifyReply): InstallOptions {
  return { grantPermissions: body.grantPermissions === true, allowScripts: body.allowScripts === true, signal: clientGone(reply) };
}

type Params = { name: string };

/** A bundle path as the daemon reads it: `npm:` specs as given, paths resolved. */
const bundleOf = (given: string): string => (isNpmSpec(given) ? given : path.resolve(given));

/**
 * Aborted when the client goes away before its answer is sent (the response closes unfinished):
 * the install or upgrade it asked for is cancelled. Not the request's own 'close', which fires
 * once its body has been read.
 */
function clientGone(reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  const res = reply.raw;
  const check = (): void => {
    if (!res.writableEnded) gone.abort(new Error('the control API client disconnected before the answer'));
  };
  if (res.destroyed) check();
  else res.once('close', check);
  return gone.signal;
}

/** Registers the routes; returns each one's method and path (to tell a wrong method from an unknown path). */
export function registerRoutes(app: FastifyInstance, ctx: RouteContext): RouteEntry[] {
  const { sup } = ctx;
  const routes: RouteEntry[] = [];
  const route = (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    schema: object,
    handler: (req: FastifyRequest, reply: FastifyReply) => unknown,
  ) => {
    routes.push({ method, url });
    app.route({ method, url, schema, handler: async (req, reply) => handler(req, reply) });
  };

  route('GET', '/v1/version', {}, () => ({ version: plugdVersion(), api: 'v1', node: process.version, pid: process.pid, root: sup.root }));

  route('GET', '/v1/plugins', { querystring: { type: 'object', properties: { capability: { type: 'string' }, enabled: flag } } }, (req) => {
    const q = req.query as { capability?: string; enabled?: string };
    return sup.list({ capability: q.capability, enabled: q.enabled === undefined ? undefined : isSet(q.enabled) });
  });

  route('GET', '/v1/plugins/:name', { params: name }, (req) => {
    const info = sup.inspect((req.params as Params).name);
    return { ...info, ...inspectDetails(info.name, ctx.factsOf(info.name), ctx.history) };
  });

  route('POST', '/v1/plugins', { body: bundleBody }, async (req, reply) => {
    const body = req.body as BundleBody;
    const installed = await sup.install(bundleOf(body.path), installOptions(body, reply));
    return reply.code(201).send(installed);
  });

  route('POST', '/v1/plugins/:name/enable', { params: name }, async (req) => {
    const n = (req.params as Params).name;
    await sup.enable(n);
    return sup.inspect(n);
  });

  route(
    'POST',
    '/v1/plugins/:name/disable',
    { params: name, querystring: { type: 'object', properties: { force: flag } } },
    async (req) => {
      const n = (req.params as Params).name;
      await sup.disable(n, { force: isSet((req.query as { force?: string }).force) });
      return sup.inspect(n);
    },
  );

  route('POST', '/v1/plugins/:name/restart', { params: name }, async (req) => {
    const n = (req.params as Params).name;
    await sup.restart(n);
    return sup.inspect(n);
  });

  route(
    'POST',
    '/v1/plugins/:name/set',
    {
      params: name,
      body: {
        type: 'object',
        required: ['env'],
        additionalProperties: false,
        properties: { env: { type: 'array', maxItems: 1000, items: { type: 'string', pattern: '^[^=]+=' } } },
      },
    },
    async (req) => {
      const n = (req.params as Params).name;
      await sup.set(n, (req.body as { env: string[] }).env);
      return sup.inspect(n);
    },
  );

  route('POST', '/v1/plugins/:name/upgrade', { params: name, body: bundleBody }, async (req, reply) => {
    return sup.upgrade((req.params as Params).name, bundleOf((req.body as BundleBody).path), installOptions(req.body as BundleBody, reply));
  });

  route(
    'DELETE',
    '/v1/plugins/:name',
    { params: name, querystring: { type: 'object', properties: { force: flag } } },
    async (req, reply) => {
      await sup.remove((req.params as Params).name, { force: isSet((req.query as { force?: string }).force) });
      return reply.code(204).send();
    },
  );

  route(
    'POST',
    '/v1/plugins/:name/call',
    {
      params: name,
      body: {
        type: 'object',
        required: ['method'],
        additionalProperties: false,
        properties: { method: { type: 'string', minLength: 1 }, args: {}, timeoutMs: { type: 'number', exclusiveMinimum: 0 } },
      },
    },
    async (req) => {
      const body = req.body as { method: string; args?: unknown; timeoutMs?: number };
      const capability = body.method.includes('.') ? body.method.slice(0, body.method.indexOf('.')) : body.method;
      const client = await sup.get((req.params as Params).name, capability);
      const result = await client.call(body.method, body.args, body.timeoutMs === undefined ? {} : { timeoutMs: body.timeoutMs });
      return { result: result ?? null };
    },
  );

  route(
    'GET',
    '/v1/plugins/:name/logs',
    {
      params: name,
      querystring: {
        type: 'object',
        properties: { tail: { type: 'integer', minimum: 1, maximum: 100_000 }, since: { type: 'string' }, follow: flag },
      },
    },
    async (req, reply) => {
      const n = (req.params as Params).name;
      const q = req.query as { tail?: number; since?: string; follow?: string };
      const id = sup.inspect(n).id;
      const since = q.since === undefined ? null : parseSince(q.since);
      const recent = (l: LogLine) => since === null || l.time >= since;
      if (!isSet(q.follow)) {
        const lines = (await sup.logs(n, { tail: q.tail ?? 100 })).filter(recent);
        return reply.type('application/x-ndjson').send(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
      }
      // Tail and follow meet at one cut: the pump gives the tail with where the file ended right
      // after its last line, and the follower reads on from exactly there, whenever it starts.
      const { lines, end } = await ctx.logTail(id, q.tail ?? 100);
      reply.hijack();
      const stream = track(
        ctx,
        new NdjsonStream(reply.raw, ctx.followerBuffer, () => {
          ctx.metrics.followerDrops += 1;
        }),
      );
      for (const line of lines) if (recent(line)) stream.send(line);
      const unfollow = ctx.followers.follow(id, end, (line) => stream.sendRaw(line));
      void stream.closed.then(unfollow);
    },
  );

  route('GET', '/v1/events', { querystring: { type: 'object', properties: { since: { type: 'string' }, follow: flag } } }, (req, reply) => {
    const q = req.query as { since?: string; follow?: string };
    const past = q.since === undefined ? [] : ctx.history.since(parseSince(q.since));
    if (!isSet(q.follow)) return reply.type('application/x-ndjson').send(past.map((e) => `${JSON.stringify(e)}\n`).join(''));
    reply.hijack();
    const stream = track(
      ctx,
      new NdjsonStream(reply.raw, ctx.followerBuffer, () => {
        ctx.metrics.followerDrops += 1;
      }),
    );
    for (const event of past) stream.send(event);
    const unfollow = ctx.history.follow((event) => stream.send(event));
    void stream.closed.then(unfollow);
    return undefined;
  });

  route('GET', '/v1/metrics', {}, async (_req, reply) => {
    const text = await ctx.metrics.text();
    return reply.type(ctx.metrics.contentType).send(text);
  });
  return routes;
}

function track(ctx: RouteContext, stream: NdjsonStream): NdjsonStream {
  ctx.streams.add(stream);
  void stream.closed.then(() => ctx.streams.delete(stream));
  return stream;
}
