import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCEPT, dockerCall } from '../../src/docker/docker-protocol.mjs';
import { servePlugin } from '../../src/sdk/index.js';
import { onCleanup, tempDir } from '../helpers.js';

/** A request exactly as Docker's engine makes it. */
function dockerRequest(socketPath: string, method: string, pathName: string, body?: unknown) {
  return new Promise<{ status: number; type: string | undefined; body: unknown }>((resolve, reject) => {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const req = http.request(
      {
        socketPath,
        method,
        path: pathName,
        headers: { Accept: ACCEPT, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function volumePlugin() {
  const socket = path.join(await tempDir(), 'volumes.sock');
  const volumes = new Map<string, object>();
  const server = await servePlugin({
    socket,
    implements: ['VolumeDriver'],
    handlers: {
      'VolumeDriver.Create': ({ Name, Opts }) => {
        volumes.set(Name, Opts ?? {});
        return {};
      },
      'VolumeDriver.Get': ({ Name }) => {
        if (!volumes.has(Name)) throw new Error(`no volume ${Name}`);
        return { Volume: { Name, Mountpoint: `/mnt/${Name}` } };
      },
    },
  });
  onCleanup(() => server.close());
  return { socket, server };
}

describe('servePlugin on the wire (Docker protocol)', () => {
  it('answers the handshake with Implements and the plugin content type', async () => {
    const { socket } = await volumePlugin();
    const res = await dockerRequest(socket, 'POST', '/Plugin.Activate', {});
    expect(res).toEqual({ status: 200, type: 'application/vnd.docker.plugins.v1+json', body: { Implements: ['VolumeDriver'] } });
  });

  it('dispatches POST /<Method> with the JSON body to its handler', async () => {
    const { socket } = await volumePlugin();
    expect(await dockerRequest(socket, 'POST', '/VolumeDriver.Create', { Name: 'data', Opts: { size: '1G' } })).toMatchObject({
      status: 200,
      body: {},
    });
    expect(await dockerRequest(socket, 'POST', '/VolumeDriver.Get', { Name: 'data' })).toMatchObject({
      status: 200,
      body: { Volume: { Name: 'data', Mountpoint: '/mnt/data' } },
    });
  });

  it('answers a handler error with HTTP 500 and { Err }, an unknown method with 404 and { Err }', async () => {
    const { socket } = await volumePlugin();
    expect(await dockerRequest(socket, 'POST', '/VolumeDriver.Get', { Name: 'nope' })).toEqual({
      status: 500,
      type: 'application/vnd.docker.plugins.v1+json',
      body: { Err: 'no volume nope' },
    });
    const unknown = await dockerRequest(socket, 'POST', '/VolumeDriver.Remove', { Name: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ Err: expect.stringContaining('unknown method "VolumeDriver.Remove"') });
    expect((await dockerRequest(socket, 'GET', '/Plugin.Activate')).status).toBe(405);
  });

  it('creates its socket reachable only by the host user (mode 0600)', async () => {
    const { socket } = await volumePlugin();
    expect((await stat(socket)).mode & 0o777).toBe(0o600);
  });

  it("is understood by plugd's own protocol client, { Err } becoming PLUGD_E_PLUGIN_ERROR", async () => {
    const { socket } = await volumePlugin();
    await expect(dockerCall({ socketPath: socket }, 'Plugin.Activate', {}, { timeoutMs: 2_000 })).resolves.toEqual({
      Implements: ['VolumeDriver'],
    });
    await expect(dockerCall({ socketPath: socket }, 'VolumeDriver.Get', { Name: 'nope' }, { timeoutMs: 2_000 })).rejects.toMatchObject({
      code: 'PLUGD_E_PLUGIN_ERROR',
      status: 500,
      message: 'no volume nope',
    });
    await expect(dockerCall({ socketPath: `${socket}.missing` }, 'Plugin.Activate', {}, { timeoutMs: 2_000 })).rejects.toMatchObject({
      transport: true,
    });
  });
});
