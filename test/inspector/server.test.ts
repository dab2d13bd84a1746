import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { createSupervisor } from '../../src/index.js';
import { bundle, supervisor, tempDir } from '../helpers.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One GET to the inspector, with the Host and cookie given; SSE answers are read until `until` appears. */
/** A GET; with `until`, a stream (the SSE feed) is read until it holds every one of those texts. */
function get(url: string, headers: Record<string, string> = {}, until?: string[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (t: string) => {
        text += t;
        if (until?.every((piece) => text.includes(piece))) {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
  });
}

describe('the inspector a host serves with control: { inspector }', () => {
  it('prints a URL whose token becomes a cookie, then answers only with it, to a loopback Host', async () => {
    const sup = await supervisor({ control: { inspector: { port: 0 } } });
    await sup.install(await bundle('greeter'));
    const url = new URL(sup.inspectorUrl!);
    expect(url.hostname).toBe('127.0.0.1');
    const token = url.searchParams.get('token')!;
    const base = `http://127.0.0.1:${url.port}`;

    const first = await get(url.href);
    expect(first.status).toBe(302);
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toContain(token);
    expect(String(first.headers['set-cookie'])).toContain('HttpOnly');

    expect((await get(`${base}/`)).status).toBe(401);
    expect((await get(`${base}/`, { cookie: 'plugd_inspector=wrong' })).status).toBe(401);
    const page = await get(`${base}/`, { cookie });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<script type="module" src="app.js">');
    // A name that resolves to 127.0.0.1 (DNS rebinding) is still refused: the Host must be loopback.
    expect((await get(`${base}/`, { cookie, host: `evil.example:${url.port}` })).status).toBe(403);
    expect((await get(`${base}/`, { cookie, origin: 'http://evil.example' })).status).toBe(403);

    const feed = await get(`${base}/feed`, { cookie }, [
      '"plugd.plugins"',
      '"sessionId":"plugd:greeter"',
      '"sessionId":"plugd:@supervisor"',
    ]);
    expect(feed.headers['content-type']).toBe('text/event-stream');
    expect(feed.text).toContain('"plugd.plugins"');
    expect(feed.text).toContain('"sessionId":"plugd:greeter"');
    expect(feed.text).not.toContain('"definition"');

    const chart = JSON.parse((await get(`${base}/chart?session=plugd:greeter`, { cookie })).text) as { nodes: { key: string }[] };
    expect(chart.nodes.map((n) => n.key)).toEqual(expect.arrayContaining(['installed', 'running', 'restarting', 'disabled', 'removed']));
    // The supervisor's own machine, open while its control API answers; its eventless edge is drawn too.
    expect(feed.text).toContain('"sessionId":"plugd:@supervisor"');
    const own = JSON.parse((await get(`${base}/chart?session=${encodeURIComponent('plugd:@supervisor')}`, { cookie })).text) as {
      nodes: { id: string; key: string }[];
      edges: { source: string; target: string; label: string }[];
    };
    expect(own.nodes.map((n) => n.key)).toEqual(expect.arrayContaining(['open', 'closing', 'closed']));
    expect(own.edges).toContainEqual(
      expect.objectContaining({ source: 'supervisor.closing', target: 'supervisor.closed', label: '(always)' }),
    );
    const script = await get(`${base}/app.js`, { cookie });
    expect(script.status).toBe(200);
    expect(script.text).not.toMatch(/https?:\/\/(cdn|unpkg|esm\.sh)/);
  });

  it('shows a lazy plugin waiting for its first call as enabled (idle), in enabled.idle, and running once called', async () => {
    const sup = await supervisor({ control: { inspector: { port: 0 } } });
    await sup.install(await bundle('lazy-greeter'));
    await sup.enable('lazy-greeter');
    expect(sup.inspect('lazy-greeter').idle).toBe(true);
    const url = new URL(sup.inspectorUrl!);
    const base = `http://127.0.0.1:${url.port}`;
    const cookie = String((await get(url.href)).headers['set-cookie']).split(';')[0]!;

    // The plugin list and the machine's snapshot are separate feed messages: wait for both.
    const idle = await get(`${base}/feed`, { cookie }, ['"idle":true', '"value":{"enabled":"idle"}']);
    expect(idle.text).toMatch(/"name":"lazy-greeter"[^}]*"state":"enabled","idle":true/);
    expect(idle.text).toContain('"value":{"enabled":"idle"}');

    await (await sup.get('lazy-greeter', 'Greeter')).call('Greeter.Hello', { name: 'x' });
    const running = await get(`${base}/feed`, { cookie }, ['"state":"running","idle":false']);
    expect(running.text).toMatch(/"name":"lazy-greeter"[^}]*"state":"running","idle":false/);
  });

  it('refuses an inspector port that is not a port, or an inspector beside TCP control', async () => {
    const root = await tempDir();
    await expect(createSupervisor({ root, control: { inspector: { port: -1 } } })).rejects.toMatchObject({ code: 'PLUGD_E_OPTION' });
    await expect(
      createSupervisor({ root, control: { host: '127.0.0.1', port: 0, token: 'x'.repeat(20), inspector: { port: 0 } } as never }),
    ).rejects.toMatchObject({ code: 'PLUGD_E_OPTION' });
  });
});
