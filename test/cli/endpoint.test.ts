import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveEndpoint } from '../../src/cli/endpoint.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { tempDir } from '../helpers.js';

const SOCKET = '/run/plugd/plugd.sock';

describe('where the CLI reaches the daemon', () => {
  it('is the root socket by default, --socket when given, and ignores $PLUGD_TOKEN there', () => {
    expect(resolveEndpoint({}, SOCKET, {})).toEqual({ kind: 'socket', socket: SOCKET });
    expect(resolveEndpoint({ socket: '/tmp/other.sock' }, SOCKET, { PLUGD_TOKEN: 'x'.repeat(32) })).toEqual({
      kind: 'socket',
      socket: '/tmp/other.sock',
    });
  });

  it('is --url over $PLUGD_URL, and --socket over $PLUGD_URL', () => {
    const env = { PLUGD_URL: 'http://127.0.0.1:7000', PLUGD_TOKEN: 'tok-from-env-0123456789' };
    const fromEnv = resolveEndpoint({}, SOCKET, env);
    expect(fromEnv.kind === 'tcp' && [fromEnv.url.origin, fromEnv.token]).toEqual([
      'http://127.0.0.1:7000',
      { value: 'tok-from-env-0123456789', from: '$PLUGD_TOKEN' },
    ]);
    const flag = resolveEndpoint({ url: 'http://[::1]:7001/' }, SOCKET, env);
    expect(flag.kind === 'tcp' && flag.url.origin).toBe('http://[::1]:7001');
    expect(resolveEndpoint({ socket: SOCKET }, '/elsewhere.sock', env)).toEqual({ kind: 'socket', socket: SOCKET });
  });

  it('takes the token of --token-file over $PLUGD_TOKEN, without its trailing newline', async () => {
    const file = path.join(await tempDir(), 'token');
    await writeFile(file, 'tok-from-file-0123456789\n', { mode: 0o600 });
    const endpoint = resolveEndpoint({ url: 'http://localhost:7000', tokenFile: file }, SOCKET, { PLUGD_TOKEN: 'other' });
    expect(endpoint.kind === 'tcp' && endpoint.token).toEqual({ value: 'tok-from-file-0123456789', from: `--token-file ${file}` });
    expect(resolveEndpoint({ url: 'http://localhost:7000' }, SOCKET, {})).toMatchObject({ kind: 'tcp', token: null });
  });

  it('refuses --url with --socket, a URL beyond loopback or with a path, and a token file that cannot be read or is empty', async () => {
    const dir = await tempDir();
    const empty = path.join(dir, 'empty');
    await writeFile(empty, '\n');
    const mistakes = [
      { url: 'http://127.0.0.1:7000', socket: SOCKET },
      { url: 'http://192.0.2.1:7000' },
      { url: 'http://127.0.0.2:7000' },
      { url: 'https://127.0.0.1:7000' },
      { url: 'http://127.0.0.1:7000/v1' },
      { url: '127.0.0.1:7000' },
      { url: 'http://127.0.0.1:7000', tokenFile: path.join(dir, 'missing') },
      { url: 'http://127.0.0.1:7000', tokenFile: empty },
      { tokenFile: empty },
    ];
    for (const opts of mistakes) expect(() => resolveEndpoint(opts, SOCKET, {}), JSON.stringify(opts)).toThrow(UsageError);
  });
});

describe('a token the CLI cannot send', () => {
  it('is a usage error: a control character, a space or a non-ASCII letter, from $PLUGD_TOKEN or a file', async () => {
    const file = path.join(await tempDir(), 'token');
    await writeFile(file, 'tok\u0001en-0123456789\n', { mode: 0o600 });
    const url = 'http://127.0.0.1:7000';
    expect(() => resolveEndpoint({ url, tokenFile: file }, SOCKET, {})).toThrow(UsageError);
    for (const token of ['tok\u0001en-0123456789', 'two words-0123456789', 'héllo-token-0123456789'])
      expect(() => resolveEndpoint({ url }, SOCKET, { PLUGD_TOKEN: token }), JSON.stringify(token)).toThrow(UsageError);
    // Visible ASCII passes, as generated tokens (base64url) and hex ones are.
    expect(resolveEndpoint({ url }, SOCKET, { PLUGD_TOKEN: 'Ab0-_.~+/=!#$%&*' })).toMatchObject({ token: { value: 'Ab0-_.~+/=!#$%&*' } });
  });

  it('is a usage error in a URL too: user:password@ would send credentials beside the bearer token', () => {
    for (const url of ['http://user@127.0.0.1:7000', 'http://:secret@127.0.0.1:7000'])
      expect(() => resolveEndpoint({ url }, SOCKET, {}), url).toThrow(UsageError);
  });
});

describe('a root whose daemon listens on TCP', () => {
  it("is reached at the URL in its control.url, with the root's generated token unless one is given", async () => {
    const root = await tempDir();
    const socket = path.join(root, 'plugd.sock');
    await writeFile(path.join(root, 'control.url'), 'http://127.0.0.1:7070\n');
    const tokenFile = path.join(root, 'control.token');
    await writeFile(tokenFile, 'generated-token-0123456789\n', { mode: 0o600 });

    const found = resolveEndpoint({}, socket, {}, root);
    expect(found.kind === 'tcp' && [found.url.origin, found.token]).toEqual([
      'http://127.0.0.1:7070',
      { value: 'generated-token-0123456789', from: tokenFile },
    ]);
    const given = resolveEndpoint({}, socket, { PLUGD_TOKEN: 'given-token-0123456789' }, root);
    expect(given.kind === 'tcp' && given.token).toEqual({ value: 'given-token-0123456789', from: '$PLUGD_TOKEN' });
    // What is named beats what the root holds.
    expect(resolveEndpoint({ socket }, socket, {}, root)).toEqual({ kind: 'socket', socket });
    const env = resolveEndpoint({}, socket, { PLUGD_URL: 'http://127.0.0.1:7071' }, root);
    expect(env.kind === 'tcp' && env.url.origin).toBe('http://127.0.0.1:7071');
  });

  it('goes without a token when the root holds none this user can read, and to the socket when there is no control.url', async () => {
    const root = await tempDir();
    const socket = path.join(root, 'plugd.sock');
    expect(resolveEndpoint({}, socket, {}, root)).toEqual({ kind: 'socket', socket });
    await writeFile(path.join(root, 'control.url'), 'http://127.0.0.1:7070\n');
    expect(resolveEndpoint({}, socket, {}, root)).toMatchObject({ kind: 'tcp', token: null });
    // A URL file that names a host beyond loopback is refused as --url would be.
    await writeFile(path.join(root, 'control.url'), 'http://192.0.2.1:7070\n');
    expect(() => resolveEndpoint({}, socket, {}, root)).toThrow(UsageError);
  });
});
