// Resolves an `npm:` spec against the configured registry and downloads its tarball to a file,
// checked against the published sha512 integrity as it streams (pacote and ssri do the checking).
// An abort signal reaches the sockets: pacote hands it to npm-registry-fetch, whose fetch
// (minipass-fetch) destroys the request and errors the body stream when it aborts.
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Pacote from 'pacote';
import { PlugdError } from '../../errors.js';
import type { ProgressListener } from './install-progress.js';
import { registryFor, type NpmConfig } from './npm-config.js';
import type { NpmSpec } from './npm-spec.js';
import type { PluginSource } from './plugin-source.js';
import { registryError } from './registry-errors.js';

export interface FetchedPackage {
  name: string;
  version: string;
  tarball: string;
  source: PluginSource;
}

/** Emit a download event at most every this many bytes (and at the end). */
const PROGRESS_STEP_BYTES = 64 * 1024;

/** pacote's options from npm's keys (auth and scoped-registry keys pass as they are). */
function pacoteOptions(config: NpmConfig, cache: string, timeoutMs: number, signal: AbortSignal | undefined): Record<string, unknown> {
  return {
    ...config,
    cache,
    signal, // each request's, not the agent's: make-fetch-happen keeps it off the shared agent
    preferOnline: true, // a fresh cache per install: never trust bytes from an earlier one
    timeout: timeoutMs,
    fetchRetries: 0, // a stopped registry fails now, not after npm's minute of backoff
    strictSSL: config['strict-ssl'] !== 'false',
    ...(config['https-proxy'] ? { httpsProxy: config['https-proxy'] } : {}),
    ...(config.noproxy ? { noProxy: config.noproxy } : {}),
    ...(config['user-agent'] ? { userAgent: config['user-agent'] } : {}),
  };
}

/**
 * Resolves `spec` to one version and downloads its tarball to `tarballFile`. Refused with
 * PLUGD_E_NOT_FOUND (no such package or version), PLUGD_E_INTEGRITY (no sha512 published, or
 * the bytes do not match it) or PLUGD_E_REGISTRY (unreachable, timed out, refused). Once `signal`
 * aborts, the request under way is torn down (its socket destroyed) and this rejects with the
 * signal's reason; the tarball file may be left partly written.
 */
export async function fetchPackage(
  spec: NpmSpec,
  options: {
    config: NpmConfig;
    cache: string;
    timeoutMs: number;
    tarballFile: string;
    progress: ProgressListener;
    signal?: AbortSignal;
  },
): Promise<FetchedPackage> {
  const { default: pacote } = await import('pacote'); // loaded on the first registry install only
  const { config, progress, signal } = options;
  signal?.throwIfAborted();
  const registry = registryFor(config, spec.name);
  const opts = pacoteOptions(config, options.cache, options.timeoutMs, signal);
  const failed = (e: unknown, what: string): unknown => (signal?.aborted ? signal.reason : registryError(e, what, registry));
  const wanted = `${spec.name}@${spec.range}`;
  progress({ step: 'resolve', spec: spec.raw });
  let manifest: Awaited<ReturnType<typeof Pacote.manifest>>;
  try {
    manifest = await pacote.manifest(wanted, opts);
  } catch (e) {
    throw failed(e, spec.raw);
  }
  const { name, version } = manifest;
  const integrity = manifest._integrity;
  const resolved = manifest._resolved;
  if (typeof integrity !== 'string' || !/(^|\s)sha512-/.test(integrity)) {
    throw new PlugdError(
      'PLUGD_E_INTEGRITY',
      `${registry} publishes no sha512 integrity for ${name}@${version}; refusing to install it unchecked`,
      { details: { spec: spec.raw } },
    );
  }
  let bytes = 0;
  let reported = -PROGRESS_STEP_BYTES;
  const report = (force: boolean) => {
    if (!force && bytes - reported < PROGRESS_STEP_BYTES) return;
    reported = bytes;
    progress({ step: 'download', name, version, bytes });
  };
  report(true);
  try {
    // Called again if pacote retries after a corrupt stream: each call rewrites the file.
    await pacote.tarball.stream(
      `${name}@${version}`,
      async (stream) => {
        bytes = 0;
        reported = 0;
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            bytes += chunk.length;
            report(false);
            done(null, chunk);
          },
        });
        await pipeline(stream as unknown as NodeJS.ReadableStream, counter, createWriteStream(options.tarballFile));
      },
      { ...opts, integrity, resolved },
    );
  } catch (e) {
    throw failed(e, `${name}@${version}`);
  }
  signal?.throwIfAborted();
  report(true);
  progress({ step: 'verify', integrity });
  return { name, version, tarball: options.tarballFile, source: { spec: spec.raw, resolved, integrity } };
}
