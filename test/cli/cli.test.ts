import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, tempDir } from '../helpers.js';
import { daemon, plugd, start } from './run-plugd.js';

const E2E = { timeout: 180_000 };

async function root(): Promise<string> {
  return path.join(await tempDir('plugd-cli-'), 'root');
}

function parse<T = any>(text: string): T {
  return JSON.parse(text) as T;
}

describe('plugd against a real daemon', () => {
  it(
    'installs, enables, lists, follows logs, disables and removes',
    async () => {
      const dir = await root();
      const d = await daemon(dir);
      const installed = await plugd(dir, 'install', await bundle('greeter'));
      expect(installed.code).toBe(0);
      expect(installed.stdout).toMatch(/^greeter [0-9a-f]{64}\n$/);
      expect((await plugd(dir, 'enable', 'greeter')).code).toBe(0);

      const ls = await plugd(dir, 'ls');
      expect(ls.stdout.split('\n')[0]).toMatch(/^NAME\s+ID\s+VERSION\s+KIND\s+STATE\s+ENABLED\s+RESTARTS\s+UPTIME\s+LAST ERROR$/);
      expect(ls.stdout).toMatch(/greeter\s+[0-9a-f]{12}\s+1\.0\.0\s+worker\s+running\s+yes\s+0/);
      expect(parse((await plugd(dir, '--json', 'ls')).stdout)).toMatchObject([{ name: 'greeter', state: 'running', enabled: true }]);

      const follower = start(dir, 'logs', 'greeter', '-f');
      await follower.waitFor('greeter activating');
      const called = await plugd(dir, 'call', 'greeter', 'Greeter.Print', '{"lines":["printed after following"]}');
      expect(parse(called.stdout)).toEqual({ printed: 1 });
      await follower.waitFor(/greeter#1 info\s+printed after following/);
      expect(await follower.stop('SIGINT')).toBe(0);

      const busy = await plugd(dir, 'set', 'greeter', 'GREETING=hi');
      expect([busy.code, busy.stderr]).toEqual([1, expect.stringMatching(/^PLUGD_E_STATE: /)]);
      expect((await plugd(dir, 'disable', 'greeter')).code).toBe(0);
      expect((await plugd(dir, 'set', 'greeter', 'GREETING=hi')).code).toBe(0);
      expect((await plugd(dir, 'rm', 'greeter')).code).toBe(0);
      expect(parse((await plugd(dir, '--json', 'ls')).stdout)).toEqual([]);
      const missing = await plugd(dir, 'inspect', 'greeter');
      expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/^PLUGD_E_NOT_FOUND: /)]);
      expect(await d.stop('SIGTERM')).toBe(0);
    },
    E2E.timeout,
  );

  it(
    'shows a lazy plugin enabled (idle) before its first call, running while called, idle again after idleTimeoutMs',
    async () => {
      const dir = await root();
      await daemon(dir);
      // Every state event since the daemon started: no race with the follow's start.
      const events = start(dir, 'events', '-f');
      await plugd(dir, 'install', await bundle('lazy-greeter', { idleTimeoutMs: 200 }), '--enable');
      await events.waitFor('lazy-greeter installed -> enabled');
      const idle = /lazy-greeter\s+[0-9a-f]{12}\s+1\.0\.0\s+worker\s+enabled \(idle\)\s+yes\s+0/;
      expect((await plugd(dir, 'ls')).stdout).toMatch(idle);
      expect(parse((await plugd(dir, '--json', 'ls')).stdout)).toMatchObject([{ name: 'lazy-greeter', state: 'enabled', idle: true }]);
      const topIdle = parse((await plugd(dir, '--json', 'top', '-n', '1')).stdout);
      expect(topIdle.plugins).toMatchObject([{ name: 'lazy-greeter', state: 'enabled', idle: true, uptimeMs: null }]);
      expect((await plugd(dir, 'top', '-n', '1')).stdout).toMatch(/lazy-greeter\s+enabled \(idle\)\s+-\s+0/);

      // The first call activates it; held in flight, the idle timer does not run.
      const held = start(dir, 'call', 'lazy-greeter', 'Greeter.Hold', '{}');
      await events.waitFor('lazy-greeter activating -> running');
      expect((await plugd(dir, 'ls')).stdout).toMatch(/lazy-greeter\s+[0-9a-f]{12}\s+1\.0\.0\s+worker\s+running\s+yes\s+0/);
      expect(parse((await plugd(dir, '--json', 'ls')).stdout)).toMatchObject([{ name: 'lazy-greeter', state: 'running', idle: false }]);
      const topRunning = parse((await plugd(dir, '--json', 'top', '-n', '1')).stdout);
      expect(topRunning.plugins).toMatchObject([{ name: 'lazy-greeter', state: 'running', idle: false }]);
      expect((await plugd(dir, 'top', '-n', '1')).stdout).toMatch(/lazy-greeter\s+running\s/);

      expect(parse((await plugd(dir, 'call', 'lazy-greeter', 'Greeter.Release', '{}')).stdout)).toEqual({ released: true });
      expect(await held.exited).toBe(0);
      expect(parse(held.stdout())).toEqual({ held: true });
      await events.waitFor('lazy-greeter stopping -> enabled');
      expect((await plugd(dir, 'ls')).stdout).toMatch(idle);
      expect(parse((await plugd(dir, '--json', 'ls')).stdout)).toMatchObject([{ name: 'lazy-greeter', state: 'enabled', idle: true }]);
      expect(await events.stop('SIGINT')).toBe(0);
    },
    E2E.timeout,
  );

  it(
    'follows events through a crash and the restart',
    async () => {
      const dir = await root();
      await daemon(dir);
      const events = start(dir, 'events', '-f');
      await plugd(dir, 'install', await bundle('crasher'), '--enable');
      await events.waitFor('crasher activating -> running');
      const crashed = await plugd(dir, 'call', 'crasher', 'Crash.Exit', '{"code":7}');
      expect([crashed.code, crashed.stderr]).toEqual([1, expect.stringMatching(/^PLUGD_E_PLUGIN_EXITED: /)]);
      await events.waitFor(/crasher running -> restarting PLUGD_E_PLUGIN_EXITED/);
      await events.waitFor(/crasher activating -> running \(restarts 1\)/);
      const inspected = parse((await plugd(dir, 'inspect', 'crasher')).stdout)[0];
      expect(inspected).toMatchObject({ restarts: 1, lastExit: { reason: 'exit', code: 7 }, restartWindow: { restarts: 1 } });
      expect(await events.stop('SIGINT')).toBe(0);
    },
    E2E.timeout,
  );

  it(
    'brings enabled plugins back when a SIGKILLed daemon starts again',
    async () => {
      const dir = await root();
      const first = await daemon(dir);
      await plugd(dir, 'install', await bundle('greeter'), '--enable');
      // The log pump writes the plugin's log on its own thread: the line is on disk once a follower has read it.
      const written = start(dir, 'logs', 'greeter', '-f');
      await written.waitFor('greeter activating');
      expect(await written.stop('SIGINT')).toBe(0);
      await first.stop('SIGKILL');
      // No daemon: read from the store, said to be not running; state changes need a daemon.
      const offline = await plugd(dir, 'ls');
      expect(offline.code).toBe(0);
      expect(offline.stdout).toMatch(/greeter\s+[0-9a-f]{12}\s+1\.0\.0\s+worker\s+not running\s+yes/);
      expect(offline.stderr).toMatch(/not running/);
      expect((await plugd(dir, 'logs', 'greeter')).stdout).toMatch(/greeter activating/);
      const refused = await plugd(dir, 'disable', 'greeter');
      expect([refused.code, refused.stderr]).toEqual([3, expect.stringMatching(/plugd daemon/)]);

      await daemon(dir);
      expect(parse((await plugd(dir, '--json', 'ls')).stdout)).toMatchObject([{ name: 'greeter', state: 'running' }]);
    },
    E2E.timeout,
  );

  it(
    'keeps serving after garbage, a huge body, unknown routes, wrong methods and a follower that never reads',
    async () => {
      const dir = await root();
      await daemon(dir);
      await plugd(dir, 'install', await bundle('greeter'), '--enable');
      const socket = path.join(dir, 'plugd.sock');
      const raw = (payload: string | Buffer) =>
        new Promise<string>((resolve) => {
          let got = '';
          const s = net.connect(socket, () => s.end(payload));
          s.on('data', (d) => {
            got += d.toString();
          });
          s.on('error', () => resolve(got));
          s.on('close', () => resolve(got));
        });
      expect(await raw('\x00\x01garbage\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
      // A body announced over the 1 MiB limit is refused before it is read.
      const huge = await new Promise<string>((resolve) => {
        const s = net.connect(socket, () =>
          s.write(
            `POST /v1/plugins HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${3 * 1024 * 1024}\r\n\r\n{"path":"`,
          ),
        );
        s.once('data', (d) => {
          resolve(d.toString());
          s.destroy();
        });
        s.on('error', () => resolve(''));
      });
      expect(huge).toMatch(/^HTTP\/1\.1 413[\s\S]*PLUGD_E_REQUEST/);
      expect(await raw('GET /v9/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(
        /^HTTP\/1\.1 404[\s\S]*PLUGD_E_REQUEST/,
      );
      expect(await raw('PATCH /v1/plugins HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 405/);
      const stuck = net.connect(socket, () => stuck.write('GET /v1/events?follow=1 HTTP/1.1\r\nHost: x\r\n\r\n'));
      stuck.pause();
      try {
        const ls = await plugd(dir, '--json', 'ls');
        expect(parse(ls.stdout)).toMatchObject([{ name: 'greeter', state: 'running' }]);
      } finally {
        stuck.destroy();
      }
    },
    E2E.timeout,
  );
});

describe('plugd without a daemon', () => {
  it(
    'exits 3 when nothing serves the root, and 2 on a usage mistake',
    async () => {
      const dir = await root();
      const none = await plugd(dir, 'ls');
      expect([none.code, none.stderr]).toEqual([3, expect.stringMatching(/no plugd daemon answers/)]);
      expect((await plugd(dir, 'enable')).code).toBe(2);
      expect((await plugd(dir, 'no-such-command')).code).toBe(2);
      expect((await plugd(dir, 'logs', 'x', '--tail', 'many')).code).toBe(2);
      expect((await plugd(dir, 'graph', 'x', '--format', 'png')).code).toBe(2);
      const help = await plugd(dir, '--help');
      expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('Exit codes: 0 done, 1 refused')]);
    },
    E2E.timeout,
  );

  it(
    'prints a completion script and the lifecycle chart',
    async () => {
      const dir = await root();
      expect((await plugd(dir, 'completion', 'bash')).stdout).toContain('complete -F _plugd plugd');
      expect((await plugd(dir, 'completion', 'zsh')).stdout).toContain('#compdef plugd');
      await daemon(dir);
      await plugd(dir, 'install', await bundle('greeter'), '--enable');
      const mermaid = await plugd(dir, 'graph', 'greeter');
      expect(mermaid.stdout).toMatch(/^stateDiagram-v2/);
      expect(mermaid.stdout).toContain('class running current');
      const chart = parse((await plugd(dir, 'graph', 'greeter', '--format', 'json')).stdout);
      expect(chart.nodes.filter((n: { current: boolean }) => n.current).map((n: { id: string }) => n.id)).toEqual(['running']);
      expect((await plugd(dir, 'graph', 'greeter', '--format', 'dot')).stdout).toMatch(/"running" \[style="rounded,filled"/);
      const top = await plugd(dir, '--json', 'top', '-n', '2');
      const frames = top.stdout
        .trim()
        .split('\n')
        .map((l) => parse(l));
      expect(frames).toHaveLength(2);
      expect(frames[1].plugins[0]).toMatchObject({ name: 'greeter', state: 'running', restarts: 0 });
      expect(frames[1].plugins[0].cpuPercent).toBeGreaterThanOrEqual(0);
    },
    E2E.timeout,
  );
});
