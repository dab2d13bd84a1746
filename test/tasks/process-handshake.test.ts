// The handshake task on its own: whichever way the deadline passes, the code says timeout, so the
// plugin machine's timer and the task's deadline agree however the machine is loaded.
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import processHandshake from '../../src/tasks/process-handshake.mjs';
import { TaskPool } from '../../src/tasks/task-pool.js';
import { onCleanup, tempDir } from '../helpers.js';

async function listen(socketPath: string, onConnection: (socket: net.Socket) => void): Promise<void> {
  const server = net.createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
}

describe('the process handshake task', () => {
  it('answers PLUGD_E_ACTIVATION_TIMEOUT for a plugin that accepts and never answers', async () => {
    const socketPath = path.join(await tempDir(), 'silent.sock');
    const held: net.Socket[] = [];
    await listen(socketPath, (socket) => {
      held.push(socket);
    });
    onCleanup(() => held.forEach((s) => s.destroy()));
    const outcome = await processHandshake({ address: { socketPath }, timeoutMs: 300 });
    expect(outcome).toMatchObject({ ok: false, code: 'PLUGD_E_ACTIVATION_TIMEOUT', message: expect.stringContaining('Plugin.Activate') });
    expect(held.length).toBe(1);
  });

  it('answers PLUGD_E_ACTIVATION_TIMEOUT for a socket that never appears, naming the last failure', async () => {
    const socketPath = path.join(await tempDir(), 'missing.sock');
    const outcome = await processHandshake({ address: { socketPath }, timeoutMs: 200 });
    expect(outcome).toMatchObject({ ok: false, code: 'PLUGD_E_ACTIVATION_TIMEOUT', message: expect.stringContaining('ENOENT') });
  });

  it('answers PLUGD_E_ACTIVATION for a handshake without Implements', async () => {
    const socketPath = path.join(await tempDir(), 'bad.sock');
    await listen(socketPath, (socket) => {
      socket.once('data', () =>
        socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'),
      );
    });
    const outcome = await processHandshake({ address: { socketPath }, timeoutMs: 2_000 });
    expect(outcome).toMatchObject({ ok: false, code: 'PLUGD_E_ACTIVATION', message: expect.stringContaining('Implements') });
  });

  it('gives a handshake its whole time however many others wait on sockets that never appear', async () => {
    const dir = await tempDir();
    const healthy = path.join(dir, 'healthy.sock');
    await listen(healthy, (socket) => {
      // It takes 100 ms to answer: time a handshake left waiting for a thread no longer has.
      socket.once('data', () =>
        setTimeout(
          () =>
            socket.end(
              'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 25\r\nConnection: close\r\n\r\n' +
                '{"Implements":["Volume"]}',
            ),
          100,
        ),
      );
    });
    const pool = new TaskPool();
    onCleanup(() => pool.close());
    // Submitted together, the healthy one last: it once waited for a thread until its time was spent.
    const silent = ['a', 'b', 'c'].map((n) => pool.handshake({ socketPath: path.join(dir, `${n}.sock`) }, 1_500));
    const outcome = await pool.handshake({ socketPath: healthy }, 1_500);
    expect(outcome).toEqual({ ok: true, implements: ['Volume'] });
    for (const o of await Promise.all(silent)) expect(o).toMatchObject({ ok: false, code: 'PLUGD_E_ACTIVATION_TIMEOUT' });
  });
});
