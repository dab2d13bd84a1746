// The handshake task on its own: whichever way the deadline passes, the code says timeout, so the
// plugin machine's timer and the task's deadline agree however the machine is loaded.
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import processHandshake from '../../src/tasks/process-handshake.mjs';
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
    await listen(socketPath, (socket) => { held.push(socket); });
    onCleanup(() => held.forEach((s) => s.destroy()));
    const outcome = await processHandshake({ address: { socketPath }, deadline: Date.now() + 300 });
    expect(outcome).toMatchObject({ ok: false, code: 'PLUGD_E_ACTIVATION_TIMEOUT', message: expect.stringContaining('Plugin.Activate') });
    expect(held.length).toBe(1);
  });

  it('answers PLUGD_E_ACTIVATION_TIMEOUT for a socket that never appears, naming the last failure', async () => {
    const socketPath = path.join(await tempDir(), 'missing.sock');
    const outcome = await processHandshake({ address: { socketPath }, deadline: Date.now() + 200 });
    expect(outcome).toMatchObject({ ok: false, code: 'PLUGD_E_ACTIVATION_TIMEOUT', message: expect.stringContaining('ENOENT') });
  });

  it('answers PLUGD_E_ACTIVATION for a handshake without Implements', async () => {
    const socketPath = path.join(await tempDir(), 'bad.sock');
    await listen(socketPath, (socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'));
    });
    const outcome = await processHandshake({ address: { socketPath }, deadline: Date.now() + 2_000 });
    expect(outcome).toMatchObject({ ok: false, code: 'PLUGD_E_ACTIVATION', message: expect.stringContaining('Implements') });
  });
});
