// The `control` option of createSupervisor(): where the control API listens, checked at the boundary.
import path from 'node:path';
import { PlugdError } from '../errors.js';

/** The web inspector served beside the control API, on 127.0.0.1:`port` (0: any free port). */
export interface InspectorControl {
  port: number;
}

/**
 * Serve the control API: `true` on `<root>/plugd.sock`, another socket path, or loopback TCP with
 * a token; `inspector` also serves the web inspector (socket control only).
 */
export type ControlOption = boolean | { socket?: string; inspector?: InspectorControl } | { host: string; port: number; token: string };

export type ControlListen =
  | { kind: 'socket'; socket: string; inspector?: InspectorControl }
  | { kind: 'tcp'; host: string; port: number; token: string };

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
/** Linux's limit on a UNIX socket path (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

function bad(message: string, option: string): PlugdError {
  return new PlugdError('PLUGD_E_OPTION', message, { details: { option } });
}

/** The default socket of a root: what `plugd` connects to without --socket. */
export function defaultSocket(root: string): string {
  return path.join(path.resolve(root), 'plugd.sock');
}

export function resolveControl(value: unknown, root: string): ControlListen | null {
  if (value === undefined || value === false) return null;
  if (value === true) return checkSocket(defaultSocket(root));
  if (typeof value !== 'object' || value === null)
    throw bad('option "control" must be true, { socket } or { host, port, token }', 'control');
  const o = value as Record<string, unknown>;
  if (o.socket !== undefined || (o.host === undefined && o.inspector !== undefined)) {
    if (o.socket !== undefined && (typeof o.socket !== 'string' || o.socket === ''))
      throw bad('option "control.socket" must be a socket path', 'control.socket');
    const listen = checkSocket(typeof o.socket === 'string' ? path.resolve(o.socket) : defaultSocket(root));
    return o.inspector === undefined ? listen : { ...listen, inspector: checkInspector(o.inspector) };
  }
  if (o.inspector !== undefined)
    throw bad(
      'option "control.inspector" needs the control API on a socket (control: { inspector } or { socket, inspector })',
      'control.inspector',
    );
  if (typeof o.host !== 'string' || !LOOPBACK.has(o.host)) {
    throw bad(
      `option "control.host" must be a loopback address (127.0.0.1, ::1 or localhost), got ${JSON.stringify(o.host)}: ` +
        `the control API is never exposed beyond this machine`,
      'control.host',
    );
  }
  if (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 0 || o.port > 65_535) {
    throw bad(`option "control.port" must be a port number from 0 to 65535, got ${JSON.stringify(o.port)}`, 'control.port');
  }
  if (typeof o.token !== 'string' || o.token.length < 16) {
    throw bad('option "control.token" must be a bearer token of at least 16 characters (TCP needs one)', 'control.token');
  }
  // Clients send it in a header, where only visible ASCII arrives as the bytes compared here.
  if (!/^[\x21-\x7e]+$/.test(o.token)) {
    throw bad('option "control.token" may hold visible ASCII characters only (no spaces, control characters or accents)', 'control.token');
  }
  return { kind: 'tcp', host: o.host, port: o.port, token: o.token };
}

function checkInspector(value: unknown): InspectorControl {
  const p = (value as { port?: unknown } | null)?.port;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65_535) {
    throw bad(`option "control.inspector.port" must be a port number from 0 to 65535, got ${JSON.stringify(p)}`, 'control.inspector.port');
  }
  return { port: p };
}

function checkSocket(socket: string): ControlListen & { kind: 'socket' } {
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw bad(
      `the control socket path ${socket} is longer than the ${MAX_SOCKET_PATH} bytes a UNIX socket allows; use a shorter ` +
        `root or control.socket`,
      'control.socket',
    );
  }
  return { kind: 'socket', socket };
}
