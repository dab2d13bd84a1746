// A plugin that answers in Docker's protocol with more than plugd will read: the call is refused
// with PLUGD_E_REPLY_TOO_LARGE once the limit is passed, the connection is dropped, and the
// plugin still answers the next call.
import { once } from 'node:events';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerCall, MAX_REPLY_BYTES } from '../../src/docker/docker-protocol.mjs';
import { isPlugdError } from '../../src/errors.js';
import { onCleanup, supervisor, tempDir } from '../helpers.js';

const CHUNK = Buffer.alloc(1024 * 1024, 'x');

interface Flood {
  socket: string;
  /** Bytes written by each endless answer, once its connection closed. */
  endless: Promise<number>[];
}

/**
 * A plugin on a UNIX socket: `Flood.Endless` streams an answer until the caller hangs up,
 * `Flood.Announced` announces a gigabyte, `Flood.Small` answers { ok: true }.
 */
async function floodPlugin(dir: string): Promise<Flood> {
  const flood: Flood = { socket: path.join(dir, 'flood.sock'), endless: [] };
  const server = http.createServer((req, res) => {
    req.resume();
    const type = { 'Content-Type': 'application/vnd.docker.plugins.v1+json' };
    if (req.url === '/Plugin.Activate') return res.writeHead(200, type).end(JSON.stringify({ Implements: ['Flood'] }));
    if (req.url === '/Flood.Small') return res.writeHead(200, type).end(JSON.stringify({ ok: true }));
    if (req.url === '/Flood.Announced') {
      res.writeHead(200, { ...type, 'Content-Length': String(1024 ** 3) });
      return res.write('{"data":"');
    }
    res.writeHead(200, type);
    res.write('{"data":"');
    let sent = 0;
    const pump = () => {
      while (!res.destroyed) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) return;
      }
    };
    res.on('drain', pump);
    flood.endless.push(once(res, 'close').then(() => sent));
    pump();
  });
  server.listen(flood.socket);
  await once(server, 'listening');
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return flood;
}

describe('the size of a plugin answer in Docker protocol', () => {
  it('refuses an endless answer past 64 MiB from a discovered plugin, and the plugin answers the next call', async () => {
    const socketsDir = await tempDir('plugd-flood-');
    const flood = await floodPlugin(socketsDir);
    const sup = await supervisor();
    expect((await sup.discover({ socketsDir })).activated).toEqual(['flood']);
    const client = await sup.get('flood', 'Flood');
    const refused = await client.call('Flood.Endless').catch((e: unknown) => e);
    expect(isPlugdError(refused, 'PLUGD_E_REPLY_TOO_LARGE')).toBe(true);
    // The caller hung up: the plugin's endless answer ends, which it would not while read on.
    // (How far past the limit the plugin got depends on socket buffers, so it is not bounded.)
    const sent = await flood.endless[0]!;
    expect(sent).toBeGreaterThan(MAX_REPLY_BYTES);
    await expect(client.call('Flood.Small')).resolves.toEqual({ ok: true });
    expect(sup.inspect('flood')).toMatchObject({ state: 'running' });
  });

  it('refuses an answer whose Content-Length is past maxReplyBytes before reading its body', async () => {
    const flood = await floodPlugin(await tempDir('plugd-flood-'));
    const address = { socketPath: flood.socket };
    await expect(dockerCall(address, 'Flood.Announced', {}, { timeoutMs: 10_000, maxReplyBytes: 1024 })).rejects.toMatchObject({
      code: 'PLUGD_E_REPLY_TOO_LARGE',
    });
    await expect(dockerCall(address, 'Flood.Endless', {}, { timeoutMs: 10_000, maxReplyBytes: 4 * CHUNK.length })).rejects.toMatchObject({
      code: 'PLUGD_E_REPLY_TOO_LARGE',
    });
    await expect(dockerCall(address, 'Flood.Small', {}, { timeoutMs: 10_000, maxReplyBytes: 1024 })).resolves.toEqual({ ok: true });
  });
});
