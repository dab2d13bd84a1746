// A registry download that stalls: the server sends the packument, then the tarball's headers and
// part of its bytes, then nothing. close() ends it at once (the socket is closed, not left to time
// out), and without close() it ends after registryTimeoutMs; either way nothing stays in the store.
import { createHash, randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InstallProgress, Supervisor } from '../../src/index.js';
import { onCleanup, supervisor, tempDir } from '../helpers.js';

const NAME = 'stalling-plugin';
/** The whole tarball the packument announces; only its first SENT bytes are ever sent. */
const TARBALL = randomBytes(1024 * 1024);
const SENT = 256 * 1024;
const INTEGRITY = `sha512-${createHash('sha512').update(TARBALL).digest('base64')}`;

interface StallingRegistry {
  url: string;
  /** Resolves once a tarball request's socket has closed: the client gave up on it. */
  tarballSocketClosed: Promise<void>;
  /** Whether the server has closed that socket itself (it never does before cleanup). */
  closedByServer(): boolean;
}

/** A registry that answers the packument and stalls the tarball after SENT bytes. */
async function stallingRegistry(): Promise<StallingRegistry> {
  const sockets = new Set<Socket>();
  let serverClosing = false;
  let onTarballClosed!: () => void;
  const tarballSocketClosed = new Promise<void>((resolve) => (onTarballClosed = resolve));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = `http://127.0.0.1:${port}`;
    if (req.url === `/${NAME}`) {
      const tarball = `${url}/${NAME}/-/${NAME}-1.0.0.tgz`;
      const packument = {
        name: NAME,
        'dist-tags': { latest: '1.0.0' },
        versions: { '1.0.0': { name: NAME, version: '1.0.0', dist: { tarball, integrity: INTEGRITY } } },
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(packument));
      return;
    }
    if (req.url === `/${NAME}/-/${NAME}-1.0.0.tgz`) {
      req.socket.once('close', onTarballClosed);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': TARBALL.length });
      res.write(TARBALL.subarray(0, SENT)); // and nothing more
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not found"}');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  onCleanup(
    () =>
      new Promise((resolve) => {
        serverClosing = true;
        for (const socket of sockets) socket.destroy();
        server.close(resolve);
      }),
  );
  return { url: `http://127.0.0.1:${port}/`, tarballSocketClosed, closedByServer: () => serverClosing };
}

const savedEnv: Record<string, string | undefined> = {};

/** This process's npm settings: the stalling registry and an empty userconfig, nothing else. */
beforeEach(async () => {
  for (const key of Object.keys(process.env).filter((k) => /^npm_config_/i.test(k))) {
    savedEnv[key] = process.env[key];
    delete process.env[key];
  }
  const npmrc = path.join(await tempDir('plugd-npmrc-'), 'npmrc');
  await writeFile(npmrc, '');
  process.env.npm_config_userconfig = npmrc;
});

afterEach(() => {
  for (const key of Object.keys(process.env).filter((k) => /^npm_config_/i.test(k))) delete process.env[key];
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value !== undefined) process.env[key] = value;
    delete savedEnv[key];
  }
});

/** Starts installing from the stalling registry; resolves once part of the tarball has arrived. */
async function stalledInstall(sup: Supervisor, registry: StallingRegistry): Promise<{ outcome: Promise<string | undefined> }> {
  process.env.npm_config_registry = registry.url;
  let arrived!: () => void;
  const downloading = new Promise<void>((resolve) => (arrived = resolve));
  const onProgress = (e: InstallProgress) => {
    if (e.step === 'download' && e.bytes > 0) arrived();
  };
  const outcome = sup.install(`npm:${NAME}@^1`, { onProgress }).then(
    () => 'installed',
    (e: { code?: string }) => e.code,
  );
  await Promise.race([downloading, outcome]);
  return { outcome };
}

/** No record, and nothing under plugins/ (no scratch folder). */
async function expectStoreUntouched(sup: Supervisor): Promise<void> {
  expect(sup.list()).toEqual([]);
  expect(await readdir(path.join(sup.root, 'plugins'))).toEqual([]);
}

describe('a registry download that stalls mid-tarball', () => {
  it('is aborted by close(): the socket closes, the install rejects with PLUGD_E_CLOSED, nothing stays', async () => {
    const registry = await stallingRegistry();
    const sup = await supervisor({ registryTimeoutMs: 60_000 });
    const { outcome } = await stalledInstall(sup, registry);
    await sup.close();
    // close() resolved: the client closed the socket (the server never does, and its timeout is a minute off).
    await registry.tarballSocketClosed;
    expect(registry.closedByServer()).toBe(false);
    expect(await outcome).toBe('PLUGD_E_CLOSED');
    await expectStoreUntouched(sup);
  }, 20_000);

  it('gives up after registryTimeoutMs with PLUGD_E_REGISTRY, leaving the store untouched', async () => {
    const registry = await stallingRegistry();
    const sup = await supervisor({ registryTimeoutMs: 1_000 });
    const { outcome } = await stalledInstall(sup, registry);
    expect(await outcome).toBe('PLUGD_E_REGISTRY');
    await registry.tarballSocketClosed;
    expect(registry.closedByServer()).toBe(false);
    await expectStoreUntouched(sup);
  });
});
