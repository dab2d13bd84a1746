// The handshake retries as soon as the plugin's socket appears, not at its backoff's next step:
// its wait ends on the socket's name showing up in the folder, and keeps an event that came while
// no wait was under way (an attempt was). How soon is the bench's to measure (restart-profile).
import { watch } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DockerPluginClient, socketAppears } from '../../src/docker/plugin-client.mjs';
import { onCleanup, tempDir } from '../helpers.js';

const HOUR = 3_600_000;

function listen(socketPath: string): Promise<net.Server> {
  const server = net.createServer((socket) =>
    socket.on('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 21\r\nConnection: close\r\n\r\n{"Implements":["X"]}\n')),
  );
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  return new Promise((resolve) => server.listen(socketPath, () => resolve(server)));
}

describe('waiting for a plugin socket', () => {
  it('ends a long wait when the socket appears', async () => {
    const socketPath = path.join(await tempDir('plugd-appears-'), 'p.sock');
    const appears = socketAppears({ socketPath });
    onCleanup(() => appears.close());
    const waiting = appears.wait(HOUR);
    await listen(socketPath);
    await expect(waiting).resolves.toBe(true);
  });

  it('keeps an appearance that came while no wait was under way (during an attempt)', async () => {
    const socketPath = path.join(await tempDir('plugd-appears-'), 'p.sock');
    const appears = socketAppears({ socketPath });
    onCleanup(() => appears.close());
    // A second watch of the folder: its event comes from the same inotify read as the first's.
    const seen = new Promise<void>((resolve) => {
      const other = watch(path.dirname(socketPath), () => {
        other.close();
        resolve();
      });
    });
    await listen(socketPath);
    await seen; // the event came before the wait began
    await expect(appears.wait(HOUR)).resolves.toBe(true);
  });

  it('only waits where there is no folder to watch', async () => {
    const appears = socketAppears({ socketPath: path.join(await tempDir('plugd-appears-'), 'none', 'p.sock') });
    onCleanup(() => appears.close());
    await expect(appears.wait(1)).resolves.toBe(false);
  });
});

describe('the handshake', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers once the socket appears, with no retry timer ever firing', async () => {
    // The backoff's timers are fake and never advanced: the socket's appearance is the only thing
    // that can end the wait after the first, refused attempt. Sockets and inotify stay real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const socketPath = path.join(await tempDir('plugd-appears-'), 'late.sock');
    const client = new DockerPluginClient({ socketPath });
    onCleanup(() => client.close());
    const activation = client.activate(HOUR);
    // The first attempt found no socket, and the backoff's wait is under way.
    await expect.poll(() => vi.getTimerCount()).toBe(1);
    await listen(socketPath);
    await expect(activation).resolves.toEqual(['X']);
  });
});
