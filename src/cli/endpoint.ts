// Where the CLI reaches the control API: the UNIX socket (the default), or a loopback URL with the
// bearer token from $PLUGD_TOKEN or --token-file (never a flag's value: it would show in `ps`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './usage-error.js';

/** A UNIX socket path, or a loopback http:// origin and the token to send to it. */
export type Endpoint = { kind: 'socket'; socket: string } | { kind: 'tcp'; url: URL; token: Token | null };

export interface Token {
  value: string;
  /** Where it was read, for messages: `$PLUGD_TOKEN` or `--token-file <path>`. */
  from: string;
}

/** The global options and env variables an endpoint is resolved from. */
export interface EndpointOptions {
  socket?: string;
  url?: string;
  tokenFile?: string;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** What a daemon on loopback TCP leaves in its root (removed when it stops cleanly): its URL, and a token it generated. */
export const URL_FILE = 'control.url';
export const TOKEN_FILE = 'control.token';

/** The URL a TCP daemon wrote in `root`, or null: then the root's socket is the way in. */
export function advertisedUrl(root: string): string | null {
  try {
    return readFileSync(path.join(root, URL_FILE), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** How people name an endpoint in messages: the socket path, or the URL's origin. */
export function describe(endpoint: Endpoint): string {
  return endpoint.kind === 'socket' ? endpoint.socket : endpoint.url.origin;
}

/**
 * `--url` beats `$PLUGD_URL`; `--socket` beats `$PLUGD_URL`; `--url` with `--socket` is a usage error.
 * With none of them, a root whose daemon listens on TCP (`root` holds its `control.url`) is reached
 * there, with the token it generated unless one is given; otherwise through the root's socket.
 */
export function resolveEndpoint(
  opts: EndpointOptions,
  defaultSocket: string,
  env: NodeJS.ProcessEnv = process.env,
  root: string | null = null,
): Endpoint {
  if (opts.url !== undefined && opts.socket !== undefined)
    throw new UsageError('--url and --socket name two ways to the daemon: give one of them');
  const url = opts.url ?? (opts.socket === undefined && env.PLUGD_URL ? env.PLUGD_URL : undefined);
  if (url === undefined) {
    const advertised = opts.socket === undefined && root !== null ? advertisedUrl(root) : null;
    if (advertised !== null) {
      const token = readToken(opts, env) ?? generatedToken(path.join(root!, TOKEN_FILE));
      return { kind: 'tcp', url: parseUrl(advertised, path.join(root!, URL_FILE)), token };
    }
    if (opts.tokenFile !== undefined) throw new UsageError('--token-file goes with --url (or $PLUGD_URL): the socket needs no token');
    return { kind: 'socket', socket: path.resolve(opts.socket ?? defaultSocket) };
  }
  return { kind: 'tcp', url: parseUrl(url, opts.url === undefined ? '$PLUGD_URL' : '--url'), token: readToken(opts, env) };
}

function parseUrl(text: string, from: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${from} takes http://127.0.0.1:PORT, got "${text}"`);
  }
  if (url.protocol !== 'http:' || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password)
    throw new UsageError(`${from} takes http://127.0.0.1:PORT (an http origin, no path), got "${text}"`);
  // The token travels in clear: only to this machine, where the daemon listens anyway.
  if (!LOOPBACK_HOSTS.has(url.hostname))
    throw new UsageError(
      `${from} must name a loopback host (127.0.0.1, [::1] or localhost), got "${url.hostname}": plugd listens on nothing else`,
    );
  return url;
}

/** The token of --token-file, else of $PLUGD_TOKEN, else null; an unreadable or empty file is a usage error. */
export function readToken(opts: { tokenFile?: string }, env: NodeJS.ProcessEnv = process.env): Token | null {
  if (opts.tokenFile !== undefined) {
    const file = path.resolve(opts.tokenFile);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read --token-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const value = text.trim();
    if (value === '') throw new UsageError(`--token-file ${file} is empty`);
    return sendable({ value, from: `--token-file ${file}` });
  }
  const value = env.PLUGD_TOKEN?.trim();
  return value ? sendable({ value, from: '$PLUGD_TOKEN' }) : null;
}

/** The token a daemon generated in its root, if this user may read it (else the daemon says 401). */
function generatedToken(file: string): Token | null {
  try {
    const value = readFileSync(file, 'utf8').trim();
    return value ? sendable({ value, from: file }) : null;
  } catch {
    return null;
  }
}

/**
 * A token travels in an HTTP header: a control character there makes Node throw before anything
 * is sent, and a space or a non-ASCII letter reaches the daemon in other bytes than it compares.
 */
function sendable(token: Token): Token {
  if (!/^[\x21-\x7e]+$/.test(token.value))
    throw new UsageError(`the token from ${token.from} may hold visible ASCII characters only (no spaces, control characters or accents)`);
  return token;
}
