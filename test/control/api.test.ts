import { chmod, mkdir, stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSupervisor } from '../../src/index.js';
import { bundle, nextState, onCleanup, silent, supervisor, tempDir } from '../helpers.js';
import { follow, request } from './http.js';

async function served() {
  const sup = await supervisor({ control: true });
  return { sup, socket: path.join(sup.root, 'plugd.sock') };
}

describe('control API over the socket', () => {
  it('listens on <root>/plugd.sock, mode 0600, and answers /v1/version', async () => {
    const { sup, socket } = await served();
    expect(sup.controlAddress).toBe(socket);
    expect((await stat(socket)).mode & 0o777).toBe(0o600);
    expect((await stat(sup.root)).mode & 0o077).toBe(0);
    const answer = await request(socket, 'GET', '/v1/version');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ api: 'v1', pid: process.pid, root: sup.root });
  });

  it('installs, enables, lists, inspects, calls, disables and removes a plugin', async () => {
    const { socket } = await served();
    const installed = await request(socket, 'POST', '/v1/plugins', { path: await bundle('greeter') });
    expect(installed.status).toBe(201);
    expect(installed.json.name).toBe('greeter');
    expect((await request(socket, 'POST', '/v1/plugins/greeter/enable')).json.state).toBe('running');
    const list = await request(socket, 'GET', '/v1/plugins?capability=Greeter&enabled=1');
    expect(list.json.map((p: { name: string }) => p.name)).toEqual(['greeter']);
    expect((await request(socket, 'GET', '/v1/plugins?enabled=0')).json).toEqual([]);
    const call = await request(socket, 'POST', '/v1/plugins/greeter/call', { method: 'Greeter.Hello', args: { name: 'Ada' } });
    expect(call.json.result.greeting).toBe('hello Ada');
    expect((await request(socket, 'POST', '/v1/plugins/greeter/restart')).json).toMatchObject({
      state: 'running',
      instance: { number: 2 },
    });
    expect((await request(socket, 'POST', '/v1/plugins/greeter/set', { env: ['GREETING=hi'] })).json.code).toBe('PLUGD_E_STATE');
    expect((await request(socket, 'POST', '/v1/plugins/greeter/disable')).json.state).toBe('disabled');
    expect((await request(socket, 'POST', '/v1/plugins/greeter/set', { env: ['GREETING=hi'] })).status).toBe(200);
    const upgraded = await request(socket, 'POST', '/v1/plugins/greeter/upgrade', { path: await bundle('greeter', { version: '2.0.0' }) });
    expect(upgraded.status).toBe(200);
    expect((await request(socket, 'GET', '/v1/plugins/greeter')).json).toMatchObject({
      version: '2.0.0',
      id: upgraded.json.id,
      state: 'installed',
    });
    expect((await request(socket, 'DELETE', '/v1/plugins/greeter')).status).toBe(204);
    expect((await request(socket, 'GET', '/v1/plugins/greeter')).status).toBe(404);
  });

  it('answers errors as { code, message } with the status that fits', async () => {
    const { socket } = await served();
    const missing = await request(socket, 'GET', '/v1/plugins/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe('PLUGD_E_NOT_FOUND');
    const perm = await request(socket, 'POST', '/v1/plugins', { path: await bundle('greeter', { permissions: { env: ['HOME'] } }) });
    expect([perm.status, perm.json.code]).toEqual([403, 'PLUGD_E_PERMISSION']);
    await request(socket, 'POST', '/v1/plugins', { path: await bundle('greeter') });
    const again = await request(socket, 'POST', '/v1/plugins', { path: await bundle('greeter', { version: '2.0.0' }) });
    expect([again.status, again.json.code]).toEqual([409, 'PLUGD_E_EXISTS']);
    const manifest = await request(socket, 'POST', '/v1/plugins', { path: await bundle('greeter', { kind: 'nonsense' }) });
    expect([manifest.status, manifest.json.code]).toEqual([400, 'PLUGD_E_MANIFEST']);
    const notRunning = await request(socket, 'POST', '/v1/plugins/greeter/call', { method: 'Greeter.Hello' });
    expect([notRunning.status, notRunning.json.code]).toEqual([409, 'PLUGD_E_NOT_RUNNING']);
  });

  it('refuses malformed requests with PLUGD_E_REQUEST and keeps serving', async () => {
    const { socket } = await served();
    const garbage = await request(socket, 'POST', '/v1/plugins', '{"path": nope');
    expect([garbage.status, garbage.json.code]).toEqual([400, 'PLUGD_E_REQUEST']);
    for (const body of [{ path: '/x', extra: true }, { grantPermissions: true }, [1, 2]]) {
      const schema = await request(socket, 'POST', '/v1/plugins', body);
      expect([schema.status, schema.json.code]).toEqual([400, 'PLUGD_E_REQUEST']);
    }
    // Over 1 MiB: refused from its Content-Length, before the body is read (the client is still writing).
    const huge = await new Promise<string>((resolve) => {
      const s = net.connect(socket, () =>
        s.write(
          `POST /v1/plugins HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${1024 * 1024 + 1}\r\n\r\n{"path":"`,
        ),
      );
      s.once('data', (d) => {
        resolve(d.toString());
        s.destroy();
      });
      s.on('error', () => resolve(''));
    });
    expect(huge).toMatch(/^HTTP\/1\.1 413[\s\S]*PLUGD_E_REQUEST/);
    // Within the limit by its header, over it in fact (chunked): refused as well.
    const chunked = await new Promise<string>((resolve) => {
      const s = net.connect(socket, () => {
        s.write('POST /v1/plugins HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        const chunk = 'a'.repeat(64 * 1024);
        for (let i = 0; i < 20; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      });
      s.once('data', (d) => {
        resolve(d.toString());
        s.destroy();
      });
      s.on('error', () => resolve(''));
    });
    expect(chunked).toMatch(/^HTTP\/1\.1 413/);
    const unknown = await request(socket, 'GET', '/v2/whatever');
    expect([unknown.status, unknown.json.code]).toEqual([404, 'PLUGD_E_REQUEST']);
    const method = await request(socket, 'PUT', '/v1/plugins/greeter');
    expect([method.status, method.json.code, method.headers.allow]).toEqual([405, 'PLUGD_E_REQUEST', 'GET, DELETE']);
    const raw = await new Promise<string>((resolve) => {
      const s = net.connect(socket, () => s.write('NOT HTTP AT ALL\r\n\r\n'));
      let got = '';
      s.on('data', (d) => {
        got += d.toString();
      });
      s.on('close', () => resolve(got));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect((await request(socket, 'GET', '/v1/version')).status).toBe(200);
  });

  it("streams a plugin's new log lines to a follower", async () => {
    const { sup, socket } = await served();
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    await expect.poll(async () => (await sup.logs('greeter')).length).toBeGreaterThan(0);
    const feed = await follow(socket, '/v1/plugins/greeter/logs?follow=1&tail=10');
    onCleanup(() => feed.close());
    await feed.next((l) => l.msg === 'greeter activating');
    await (await sup.get('greeter', 'Greeter')).call('Greeter.Print', { lines: ['written after following'] });
    expect((await feed.next((l) => l.msg === 'written after following')).plugin).toBe('greeter');
    const tail = await request(socket, 'GET', '/v1/plugins/greeter/logs?tail=1');
    expect(
      tail.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).msg),
    ).toHaveLength(1);
  });

  it('streams state events, with the past since a time', async () => {
    const { sup, socket } = await served();
    await sup.install(await bundle('crasher'));
    const feed = await follow(socket, '/v1/events?follow=1');
    onCleanup(() => feed.close());
    await sup.enable('crasher');
    await feed.next((e) => e.name === 'crasher' && e.to === 'running');
    const restarted = nextState(sup, 'crasher', 'running');
    void (await sup.get('crasher', 'Crash')).call('Crash.Exit', { code: 3 }).catch(() => undefined);
    await feed.next((e) => e.to === 'restarting' && e.error?.code === 'PLUGD_E_PLUGIN_EXITED');
    await restarted;
    await feed.next((e) => e.to === 'running' && e.restarts === 1);
    const past = await request(socket, 'GET', '/v1/events?since=1h');
    expect(
      past.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).to),
    ).toContain('restarting');
    const bad = await request(socket, 'GET', '/v1/events?since=yesterday-ish');
    expect(bad.json.code).toBe('PLUGD_E_OPTION');
  });

  it('keeps a follower that never reads to a bounded buffer, and others served', async () => {
    const sup = await supervisor({ control: true, logs: { ratePerSec: 100_000, burst: 100_000 }, watchdogMs: 60_000 });
    const socket = path.join(sup.root, 'plugd.sock');
    await sup.install(await bundle('flood'));
    await sup.enable('flood');
    // A reader that connects and never reads.
    const stuck = net.connect(socket, () => stuck.write('GET /v1/plugins/flood/logs?follow=1 HTTP/1.1\r\nHost: x\r\n\r\n'));
    stuck.pause();
    onCleanup(() => stuck.destroy());
    const feed = await follow(socket, '/v1/plugins/flood/logs?follow=1&tail=1');
    onCleanup(() => feed.close());
    await (await sup.get('flood', 'Flood')).call('Flood.Burst', { lines: 20_000 });
    // The stuck reader loses lines (counted); the server still answers.
    await expect
      .poll(async () => Number(/plugd_control_follower_lines_dropped_total (\d+)/.exec(await sup.metrics())?.[1]), { timeout: 60_000 })
      .toBeGreaterThan(0);
    expect((await request(socket, 'GET', '/v1/version')).status).toBe(200);
    // The reading follower gets every line, or is told how many it lost: nothing goes missing unsaid.
    const accounted = () =>
      feed.lines.reduce((n, l) => n + (l.msg === 'flood line' ? 1 : typeof l.dropped === 'number' ? l.dropped : 0), 0);
    await expect.poll(accounted, { timeout: 60_000 }).toBe(20_000);
  }, 150_000);
});

describe('control option', () => {
  it('rejects TCP beyond loopback, and without a token', async () => {
    const root = path.join(await tempDir(), 'store');
    await expect(
      createSupervisor({ root, logger: silent, control: { host: '0.0.0.0', port: 0, token: 'x'.repeat(32) } }),
    ).rejects.toMatchObject({ code: 'PLUGD_E_OPTION' });
    await expect(createSupervisor({ root, logger: silent, control: { host: '127.0.0.1', port: 0, token: '' } })).rejects.toMatchObject({
      code: 'PLUGD_E_OPTION',
    });
  });

  it('refuses a TCP port another server has with PLUGD_E_OPTION, leaving the store free', async () => {
    const taken = net.createServer();
    onCleanup(() => new Promise((resolve) => taken.close(resolve)));
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    const root = path.join(await tempDir(), 'store');
    const control = { host: '127.0.0.1', port, token: 'x'.repeat(32) };
    await expect(createSupervisor({ root, logger: silent, control })).rejects.toMatchObject({
      code: 'PLUGD_E_OPTION',
      details: { option: 'control.port' },
    });
    // The failed start let go of the store: another supervisor opens it.
    await (await createSupervisor({ root, logger: silent })).close();
  });

  it('rejects a token no client can send in an Authorization header: spaces, control characters, non-ASCII', async () => {
    const root = path.join(await tempDir(), 'store');
    for (const token of ['two words 0123456789', 'tab\there-0123456789', 'é'.repeat(16)])
      await expect(
        createSupervisor({ root, logger: silent, control: { host: '127.0.0.1', port: 0, token } }),
        JSON.stringify(token),
      ).rejects.toMatchObject({ code: 'PLUGD_E_OPTION', details: { option: 'control.token' } });
  });

  it('serves { socket } at another path, refusing a folder other users can enter', async () => {
    const dir = await tempDir();
    const socket = path.join(dir, 'ctl.sock');
    const sup = await supervisor({ control: { socket } });
    expect((await request(socket, 'GET', '/v1/version')).json.root).toBe(sup.root);
    const open = path.join(dir, 'open');
    await mkdir(open, { mode: 0o755 });
    await chmod(open, 0o755);
    await expect(
      createSupervisor({ root: path.join(dir, 'other'), logger: silent, control: { socket: path.join(open, 'ctl.sock') } }),
    ).rejects.toMatchObject({ code: 'PLUGD_E_OPTION' });
  });

  it('serves loopback TCP only with the bearer token and a loopback Host', async () => {
    const token = 't'.repeat(32);
    const sup = await supervisor({ control: { host: '127.0.0.1', port: 0, token } });
    const [, port] = /:(\d+)$/.exec(sup.controlAddress!)!;
    const get = (headers: Record<string, string>) => fetch(`http://127.0.0.1:${port}/v1/version`, { headers });
    expect((await get({})).status).toBe(401);
    expect((await get({ authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get({ authorization: `Bearer ${token}` })).status).toBe(200);
    // A page on another site resolving its name to 127.0.0.1 (DNS rebinding) sends its own Host.
    const rebound = await new Promise<number>((resolve, reject) => {
      http
        .get(
          {
            host: '127.0.0.1',
            port: Number(port),
            path: '/v1/version',
            headers: { host: `evil.example:${port}`, authorization: `Bearer ${token}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .on('error', reject);
    });
    expect(rebound).toBe(403);
  });

  it('closes the server, and ends its followers, with the supervisor', async () => {
    const root = path.join(await tempDir(), 'store');
    const sup = await createSupervisor({ root, logger: silent, control: true });
    const socket = path.join(sup.root, 'plugd.sock');
    const feed = await follow(socket, '/v1/events?follow=1');
    const ended = new Promise<void>((resolve) => feed.response.once('close', () => resolve()));
    await sup.close();
    await ended;
    await expect(request(socket, 'GET', '/v1/version')).rejects.toThrow();
  });
});
