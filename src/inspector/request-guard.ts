// Who may use the inspector: requests to a loopback Host name on our port (no DNS rebinding) that
// carry the one-time token, on the URL once (it becomes a cookie) or in the cookie.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE = 'plugd_inspector';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Whether the Host header names this machine's loopback on `port`. */
export function loopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  return host === `127.0.0.1:${port}` || host === `localhost:${port}` || host === `[::1]:${port}`;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookieToken(req: IncomingMessage): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return null;
}

export type Verdict = 'ok' | 'bad-host' | 'bad-origin' | 'no-token' | { setCookie: string; location: string };

export function judge(req: IncomingMessage, url: URL, port: number, token: string): Verdict {
  if (!loopbackHost(req.headers.host, port)) return 'bad-host';
  const origin = req.headers.origin;
  if (origin !== undefined && !loopbackHost(origin.replace(/^http:\/\//, ''), port)) return 'bad-origin';
  const given = url.searchParams.get('token');
  if (given !== null && same(given, token)) {
    url.searchParams.delete('token');
    return { setCookie: `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`, location: `${url.pathname}${url.search}` };
  }
  const cookie = cookieToken(req);
  return cookie !== null && same(cookie, token) ? 'ok' : 'no-token';
}
