// The CLI's client of the control API, against plain node:http servers standing in for a daemon.
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiClient, NoDaemonError } from '../../src/cli/api-client.js';
import { onCleanup, tempDir } from '../helpers.js';

/** A server whose every answer is a short NDJSON feed that ends. */
async function endingFeed(): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end('{"n":1}\n');
  });
  const socket = path.join(await tempDir(), 'api.sock');
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  return socket;
}

describe('ApiClient.feed', () => {
  it('leaves no listener on a stop signal it shares with later feeds, whether the feed ended or never connected', async () => {
    // The inspector reconnects its event feed with one stop signal for the life of the page.
    const stop = new AbortController();
    const api = new ApiClient(await endingFeed());
    for (let i = 0; i < 3; i++) {
      const lines: unknown[] = [];
      await api.feed('/v1/events?follow=1', (line) => lines.push(line), stop.signal);
      expect(lines).toEqual([{ n: 1 }]);
    }
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const gone = new ApiClient({ kind: 'tcp', url: new URL(`http://127.0.0.1:${port}`), token: null });
    await expect(gone.feed('/v1/events?follow=1', () => undefined, stop.signal)).rejects.toBeInstanceOf(NoDaemonError);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });
});
