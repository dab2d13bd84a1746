import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, tempDir } from '../helpers.js';
import { plugd, plugdWith, startWith, type Env, type Running } from './run-plugd.js';

const E2E = { timeout: 180_000 };
/** No token or URL inherited from the shell that runs the tests. */
const CLEAN: Env = { PLUGD_URL: undefined, PLUGD_TOKEN: undefined };

async function root(): Promise<string> {
  return path.join(await tempDir('plugd-cli-tcp-'), 'root');
}

function parse<T = any>(text: string): T {
  return JSON.parse(text) as T;
}

interface Ready {
  url: string;
  tokenFile: string | null;
}

/** A `plugd daemon --listen 127.0.0.1:0 ...` on `dir`, once ready, with the URL and token file its ready line names. */
async function tcpDaemon(dir: string, env: Env, ...args: string[]): Promise<Running & Ready> {
  const d = startWith({ ...CLEAN, ...env }, dir, 'daemon', '--listen', '127.0.0.1:0', ...args);
  await d.waitFor('plugd daemon ready', 'stderr');
  const line = d
    .stderr()
    .split('\n')
    .find((l) => l.includes('plugd daemon ready'))!;
  const { url, tokenFile } = parse<Ready>(line);
  return Object.assign(d, { url, tokenFile });
}

describe('plugd over loopback TCP', () => {
  it(
    'drives a daemon with a token file over --url and $PLUGD_TOKEN: install, ls, enable, logs -f, events -f, inspect, top',
    async () => {
      const dir = await root();
      const token = randomBytes(24).toString('hex');
      const tokenFile = path.join(await tempDir('plugd-token-'), 'token');
      await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
      const d = await tcpDaemon(dir, {}, '--token-file', tokenFile);
      expect(d.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(d.tokenFile).toBeNull();
      // Only TCP is served: a client that fell back to the socket would find nothing.
      expect(existsSync(path.join(dir, 'plugd.sock'))).toBe(false);

      const env = { ...CLEAN, PLUGD_TOKEN: token };
      const over = (...args: string[]) => plugdWith(env, dir, '--url', d.url, ...args);
      expect((await over('install', await bundle('greeter'))).code).toBe(0);
      expect((await over('ls')).stdout).toMatch(/greeter\s+[0-9a-f]{12}\s+1\.0\.0\s+worker\s+installed\s+no/);

      const events = startWith(env, dir, '--url', d.url, 'events', '-f');
      await events.waitFor('greeter - -> installed');
      const enabled = await over('enable', 'greeter');
      expect([enabled.code, enabled.stderr]).toEqual([0, '']);
      await events.waitFor('greeter activating -> running');
      // $PLUGD_URL stands for --url.
      const ls = await plugdWith({ ...env, PLUGD_URL: d.url }, dir, 'ls');
      expect([ls.code, ls.stderr]).toEqual([0, '']);
      expect(ls.stdout).toMatch(/greeter\s+[0-9a-f]{12}\s+1\.0\.0\s+worker\s+running\s+yes\s+0/);

      const follower = startWith(env, dir, '--url', d.url, 'logs', 'greeter', '-f');
      await follower.waitFor('greeter activating');
      expect(parse((await over('call', 'greeter', 'Greeter.Print', '{"lines":["printed over tcp"]}')).stdout)).toEqual({ printed: 1 });
      await follower.waitFor(/greeter#1 info\s+printed over tcp/);
      expect(await follower.stop('SIGINT')).toBe(0);
      expect(await events.stop('SIGINT')).toBe(0);

      expect(parse((await over('inspect', 'greeter')).stdout)).toMatchObject([{ name: 'greeter', state: 'running' }]);
      const top = parse((await over('--json', 'top', '-n', '1')).stdout);
      expect(top.plugins).toMatchObject([{ name: 'greeter', state: 'running' }]);
      expect(parse((await over('--json', 'version')).stdout).daemon).toMatchObject({ root: dir });
      expect((await over('disable', 'greeter')).code).toBe(0);

      expect(await d.stop('SIGTERM')).toBe(0);
      // A token the daemon was given is the operator's file: left alone.
      expect(await readFile(tokenFile, 'utf8')).toBe(`${token}\n`);
    },
    E2E.timeout,
  );

  it(
    'refuses a wrong or missing token with PLUGD_E_PERMISSION and exit 1, said once, without reading the store instead',
    async () => {
      const dir = await root();
      const d = await tcpDaemon(dir, { PLUGD_TOKEN: randomBytes(24).toString('hex') });
      const wrong = { ...CLEAN, PLUGD_TOKEN: randomBytes(24).toString('hex') };
      for (const args of [['ls'], ['enable', 'greeter'], ['logs', 'greeter', '-f'], ['events', '-f']]) {
        const refused = await plugdWith(wrong, dir, '--url', d.url, ...args);
        expect([refused.code, refused.stdout]).toEqual([1, '']);
        expect(refused.stderr).toMatch(/^PLUGD_E_PERMISSION: the daemon at http:\/\/127\.0\.0\.1:\d+ refused the token from \$PLUGD_TOKEN/);
        expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      }
      const missing = await plugdWith(CLEAN, dir, '--url', d.url, 'ls');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^PLUGD_E_PERMISSION: .*none was given: put it in \$PLUGD_TOKEN or pass --token-file/);
      expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    },
    E2E.timeout,
  );

  it(
    'generates a token in <root>/control.token with mode 0600, replacing an old one, and removes it on stop',
    async () => {
      const dir = await root();
      // A first start makes the root; its token file is then left as a crash would leave it, readable by all.
      const first = await tcpDaemon(dir, {});
      expect(await first.stop('SIGTERM')).toBe(0);
      const file = path.join(dir, 'control.token');
      await writeFile(file, 'stale-token-of-a-killed-daemon\n', { mode: 0o644 });

      const d = await tcpDaemon(dir, {});
      expect(d.tokenFile).toBe(file);
      const info = await stat(file);
      expect(info.mode & 0o777).toBe(0o600);
      const token = (await readFile(file, 'utf8')).trim();
      expect(token).not.toBe('stale-token-of-a-killed-daemon');
      expect(token.length).toBeGreaterThanOrEqual(32);

      const ls = await plugdWith(CLEAN, dir, '--url', d.url, '--token-file', file, '--json', 'ls');
      expect([ls.code, parse(ls.stdout)]).toEqual([0, []]);
      // The root says where its daemon listens: no URL or token to give.
      const urlFile = path.join(dir, 'control.url');
      expect((await readFile(urlFile, 'utf8')).trim()).toBe(d.url);
      const found = await plugdWith(CLEAN, dir, 'version');
      expect([found.code, found.stdout]).toEqual([0, expect.stringMatching(/^daemon: plugd .*root /m)]);
      const help = await plugd(dir, 'daemon', '--help');
      expect(help.stdout).toContain(`plugd --url http://127.0.0.1:PORT --token-file <root>/control.token`);

      expect(await d.stop('SIGTERM')).toBe(0);
      expect(existsSync(file)).toBe(false);
      expect(existsSync(urlFile)).toBe(false);

      // A URL left by a killed TCP daemon does not lead clients away from a daemon on the socket.
      await writeFile(urlFile, `${d.url}\n`);
      const onSocket = startWith(CLEAN, dir, 'daemon');
      await onSocket.waitFor('plugd daemon ready', 'stderr');
      expect(existsSync(urlFile)).toBe(false);
      expect((await plugdWith(CLEAN, dir, '--json', 'ls')).code).toBe(0);
      expect(await onSocket.stop('SIGTERM')).toBe(0);
    },
    E2E.timeout,
  );
});

describe('plugd refuses ways to the daemon that cannot be meant', () => {
  it(
    'exits 2 for --url with --socket, a non-loopback or malformed --url, and --listen with --socket',
    async () => {
      const dir = await root();
      const both = await plugdWith(CLEAN, dir, '--url', 'http://127.0.0.1:7070', '--socket', path.join(dir, 'plugd.sock'), 'ls');
      expect([both.code, both.stderr]).toEqual([2, expect.stringMatching(/^plugd: --url and --socket/)]);
      expect((await plugdWith(CLEAN, dir, '--url', 'http://192.0.2.1:7070', 'ls')).code).toBe(2);
      expect((await plugdWith({ ...CLEAN, PLUGD_URL: 'not a url' }, dir, 'ls')).code).toBe(2);
      expect((await plugdWith(CLEAN, dir, '--token-file', path.join(dir, 'none'), 'ls')).code).toBe(2);
      const listenBoth = await plugdWith(CLEAN, dir, 'daemon', '--listen', '127.0.0.1:0', '--socket', path.join(dir, 's.sock'));
      expect(listenBoth.code).toBe(2);
      expect((await plugdWith(CLEAN, dir, 'daemon', '--listen', 'anywhere')).code).toBe(2);
    },
    E2E.timeout,
  );

  it(
    'refuses a daemon --listen beyond loopback with PLUGD_E_OPTION (exit 1), before opening the store',
    async () => {
      const dir = await root();
      for (const listen of ['0.0.0.0:7070', '192.0.2.1:0', '[::]:7070']) {
        const refused = await plugdWith(CLEAN, dir, 'daemon', '--listen', listen);
        expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/^PLUGD_E_OPTION: --listen must be a loopback address/)]);
      }
      expect(existsSync(dir)).toBe(false);

      // A token every user can read guards nothing.
      const open = path.join(await tempDir(), 'token');
      await writeFile(open, `${randomBytes(24).toString('hex')}\n`, { mode: 0o644 });
      await chmod(open, 0o644); // whatever the umask
      const readable = await plugdWith(CLEAN, dir, 'daemon', '--listen', '127.0.0.1:0', '--token-file', open);
      expect([readable.code, readable.stderr]).toEqual([
        1,
        expect.stringMatching(/^PLUGD_E_OPTION: the token file .* is readable by every user \(mode 0644\)/),
      ]);
      expect(existsSync(dir)).toBe(false);
    },
    E2E.timeout,
  );
});
