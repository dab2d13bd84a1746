// A follower's response: it must know when its reader has gone, even a reader gone before the
// stream was made (a client that hangs up while the route still awaits the log tail).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { NdjsonStream } from '../../src/control/ndjson-stream.js';
import { onCleanup } from '../helpers.js';

describe('NdjsonStream', () => {
  it('is closed at once when its client hung up before the stream was made', async () => {
    let made: (stream: NdjsonStream) => void;
    const stream = new Promise<NdjsonStream>((resolve) => {
      made = resolve;
    });
    let received: () => void;
    const arrived = new Promise<void>((resolve) => {
      received = resolve;
    });
    const server = http.createServer((req, res) => {
      received();
      // Made only once the client's connection is gone: its 'close' has been emitted already.
      req.socket.once('close', () => setImmediate(() => made(new NdjsonStream(res))));
    });
    onCleanup(() => new Promise((resolve) => server.close(resolve)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const req = http.get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/' });
    req.on('error', () => undefined);
    await arrived;
    req.destroy();
    const late = await stream;
    expect(late.isClosed).toBe(true);
    await late.closed; // resolves: the follower behind it is unfollowed
    late.sendRaw('{"after":"close"}\n'); // and writes to it are dropped, not thrown
  });
});
