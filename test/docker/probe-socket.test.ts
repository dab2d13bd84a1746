// The health probe's own connection: any HTTP answer counts, one kept-alive socket carries the
// probes, a socket the plugin closed is retried once, and nothing but an answer to this probe
// counts (a silent plugin, bytes nobody asked for, an answer that cannot be framed).
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkedEnd, ProbeSocket } from '../../src/docker/probe-socket.mjs';
import { onCleanup, tempDir } from '../helpers.js';

/** A server on a fresh UNIX socket; counts the connections it accepted. */
async function listening(server: net.Server): Promise<{ socketPath: string; connections: () => number }> {
  const socketPath = path.join(await tempDir('plugd-probe-'), 'p.sock');
  const accepted: net.Socket[] = [];
  server.on('connection', (socket: net.Socket) => accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  onCleanup(() => {
    for (const socket of accepted) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { socketPath, connections: () => accepted.length };
}

function probes(socketPath: string): ProbeSocket {
  const probe = new ProbeSocket({ socketPath });
  onCleanup(() => probe.close());
  return probe;
}

const handshake = (status = 200) =>
  http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/vnd.docker.plugins.v1+json' });
      res.end(JSON.stringify(status === 200 ? { Implements: ['X'] } : { Err: 'no' }));
    });
  });

describe('the probe socket', () => {
  it('counts any HTTP answer, an error answer too, and carries every probe on one connection', async () => {
    const ok = await listening(handshake());
    const probe = probes(ok.socketPath);
    for (let i = 0; i < 5; i++) expect(await probe.probe(1_000)).toBe(true);
    expect(ok.connections()).toBe(1);
    const err = await listening(handshake(500));
    expect(await probes(err.socketPath).probe(1_000)).toBe(true);
  });

  it('asks again on a new connection when the plugin closed the kept-alive one as the probe came', async () => {
    // Each connection answers one request, and drops the next one unanswered (an idle timeout
    // that struck as the probe arrived).
    const { socketPath, connections } = await listening(
      net.createServer((socket) => {
        let seen = 0;
        socket.on('data', () => {
          if (seen++ === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}');
          else socket.destroy();
        });
      }),
    );
    const probe = probes(socketPath);
    for (let i = 0; i < 3; i++) expect(await probe.probe(1_000)).toBe(true);
    expect(connections()).toBe(3);
  });

  it('is false for a plugin that accepts and never answers, or is not there', async () => {
    const { socketPath } = await listening(net.createServer(() => undefined));
    expect(await probes(socketPath).probe(200)).toBe(false);
    expect(await probes(`${socketPath}.none`).probe(200)).toBe(false);
  });

  it('never counts bytes nobody asked for: an answer sent twice closes the socket', async () => {
    let answers = 2;
    const { socketPath, connections } = await listening(
      net.createServer((socket) => {
        socket.on('data', () => {
          const one = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}';
          if (answers-- > 0) socket.write(one + one); // then silent
        });
      }),
    );
    const probe = probes(socketPath);
    expect(await probe.probe(500)).toBe(true);
    // The second copy was not this probe's answer, nor the next one's: that one is silence.
    expect(await probe.probe(300)).toBe(true);
    expect(connections()).toBe(2);
    expect(await probe.probe(300)).toBe(false);
  });

  it('reads a chunked answer to its end and keeps the connection; reconnects after Connection: close', async () => {
    const chunked = await listening(
      http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.write('{"Implements":');
          res.end('["X"]}'); // no Content-Length: chunked
        });
      }),
    );
    const probe = probes(chunked.socketPath);
    for (let i = 0; i < 3; i++) expect(await probe.probe(1_000)).toBe(true);
    expect(chunked.connections()).toBe(1);
    const closing = await listening(
      http.createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(200, { connection: 'close', 'content-length': 2 }).end('{}'));
      }),
    );
    const again = probes(closing.socketPath);
    for (let i = 0; i < 3; i++) expect(await again.probe(1_000)).toBe(true);
    expect(closing.connections()).toBe(3);
  });

  it('finds where a chunked body ends, with extensions and trailers', () => {
    expect(chunkedEnd('7\r\n{"a":1}\r\n0\r\n\r\n')).toBe(17);
    expect(chunkedEnd('2;x=y\r\n{}\r\n0\r\nX-T: 1\r\n\r\nmore')).toBe(24);
    expect(chunkedEnd('7\r\n{"a":1}\r\n0\r\n')).toBe(-1);
    expect(chunkedEnd('7\r\n{"a"')).toBe(-1);
    expect(chunkedEnd('zz\r\n')).toBe(-2);
    expect(chunkedEnd('2\r\n{}xx')).toBe(-2);
  });
});
