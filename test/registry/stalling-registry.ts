// A tiny npm registry on node:http whose chosen answers stall: it answers packuments (or, for a
// package given as 'hang', never answers its packument), serves the whole tarball of a version
// given its package.json, and for a `stall` version sends the headers and part of the bytes, then
// nothing. It never closes a socket itself until cleanup.
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import type { InstallProgress, Supervisor } from '../../src/index.js';
import { onCleanup } from '../helpers.js';
import { tarEntry } from '../store/tar-builder.js';
import { useRegistry } from './npm-env.js';
import { NPM_FIXTURES } from './verdaccio.js';

/** What a stalled tarball announces, and how much of it is sent. */
const STALLED_BYTES = 1024 * 1024;
export const STALLED_SENT = 256 * 1024;

export type Version = { stall: true } | { packageJson: Record<string, unknown> };

export interface StallingRegistry {
  url: string;
  /**
   * Resolves once the first stalled answer is under way: a stalled tarball sent in part (its bytes
   * are in the socket), or a hanging packument asked for.
   */
  stalled: Promise<void>;
  /** Resolves once that answer's socket has closed: the client gave up on it. */
  stalledSocketClosed: Promise<void>;
  /** Whether cleanup has begun closing sockets (the server closes none before). */
  closedByServer(): boolean;
}

/** An npm tarball (files under package/) of npm-greet with `packageJson` as its package.json. */
async function greetTarball(packageJson: Record<string, unknown>): Promise<Buffer> {
  const index = await readFile(path.join(NPM_FIXTURES, 'npm-greet', 'index.mjs'));
  const entries = [
    tarEntry({ name: 'package/package.json', body: JSON.stringify(packageJson) }),
    tarEntry({ name: 'package/index.mjs', body: index }),
  ];
  return gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));
}

/** npm-greet's package.json (plugd field and all) under another name and version. */
export async function greetPackage(name: string, version: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const base = JSON.parse(await readFile(path.join(NPM_FIXTURES, 'npm-greet', 'package.json'), 'utf8'));
  return { ...base, name, version, ...extra };
}

const integrity = (bytes: Buffer): string => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

/** Starts the registry with `packages` (name, then version); stopped after the test. */
export async function stallingRegistry(packages: Record<string, Record<string, Version> | 'hang'>): Promise<StallingRegistry> {
  const tarballs = new Map<string, Buffer | 'stall'>();
  const packuments = new Map<string, ((url: string) => object) | 'hang'>();
  const stalledBody = randomBytes(STALLED_BYTES);
  for (const [name, versions] of Object.entries(packages)) {
    if (versions === 'hang') {
      packuments.set(`/${name}`, 'hang');
      continue;
    }
    const dists: Record<string, { file: string; integrity: string }> = {};
    for (const [version, how] of Object.entries(versions)) {
      const file = `/${name}/-/${name}-${version}.tgz`;
      const bytes = 'stall' in how ? stalledBody : await greetTarball(how.packageJson);
      tarballs.set(file, 'stall' in how ? 'stall' : bytes);
      dists[version] = { file, integrity: integrity(bytes) };
    }
    const latest = Object.keys(versions).at(-1)!;
    packuments.set(`/${name}`, (url) => ({
      name,
      'dist-tags': { latest },
      versions: Object.fromEntries(
        Object.entries(dists).map(([version, dist]) => [
          version,
          {
            ...('packageJson' in versions[version]! ? (versions[version] as { packageJson: object }).packageJson : {}),
            name,
            version,
            dist: { tarball: `${url}${dist.file}`, integrity: dist.integrity },
          },
        ]),
      ),
    }));
  }

  const sockets = new Set<Socket>();
  let serverClosing = false;
  let onStalled!: () => void;
  const stalled = new Promise<void>((resolve) => (onStalled = resolve));
  let onStalledClosed!: () => void;
  const stalledSocketClosed = new Promise<void>((resolve) => (onStalledClosed = resolve));
  const server = createServer((req, res) => {
    const packument = packuments.get(decodeURIComponent(req.url ?? ''));
    if (packument === 'hang') {
      req.socket.once('close', onStalledClosed);
      onStalled(); // and no answer
      return;
    }
    if (packument) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(packument(`http://127.0.0.1:${port}`)));
      return;
    }
    const tarball = tarballs.get(req.url ?? '');
    if (tarball === 'stall') {
      req.socket.once('close', onStalledClosed);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': STALLED_BYTES });
      res.write(stalledBody.subarray(0, STALLED_SENT), () => onStalled()); // and nothing more
      return;
    }
    if (tarball) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tarball.length });
      res.end(tarball);
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
  return { url: `http://127.0.0.1:${port}/`, stalled, stalledSocketClosed, closedByServer: () => serverClosing };
}

/**
 * A stalling registry that npm (and a daemon this process starts) uses for the rest of the test:
 * `stalling` 1.0.0 installs and 2.0.0 stalls mid-tarball, beside the `more` packages given.
 */
export async function useStallingRegistry(more: Record<string, Record<string, Version> | 'hang'> = {}): Promise<StallingRegistry> {
  const registry = await stallingRegistry({
    stalling: { '1.0.0': { packageJson: await greetPackage('stalling', '1.0.0') }, '2.0.0': { stall: true } },
    ...more,
  });
  useRegistry(registry.url);
  return registry;
}

/** An `onProgress` that resolves `arrived` once part of a tarball has reached the install. */
export function downloading(): { onProgress: (e: InstallProgress) => void; arrived: Promise<void> } {
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  return {
    onProgress: (e) => {
      if (e.step === 'download' && e.bytes > 0) arrive();
    },
    arrived,
  };
}

/** Nothing under plugins/ but the folders of `ids`: no scratch folder is left. */
export async function expectPluginFolders(sup: Supervisor, ids: string[] = []): Promise<void> {
  expect((await readdir(path.join(sup.root, 'plugins'))).sort()).toEqual([...ids].sort());
}
