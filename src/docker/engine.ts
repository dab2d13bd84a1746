// The Docker Engine API client plugd uses (dockerode), made on first use so that a host without
// Docker never loads it. docker-modem reads DOCKER_HOST (unix://, tcp://, ssh://), DOCKER_TLS_VERIFY
// and DOCKER_CERT_PATH like the docker CLI does; without them it uses /var/run/docker.sock.
import type Dockerode from 'dockerode';
import { PlugdError } from '../errors.js';

export type Engine = Dockerode;

let engine: { host: string | undefined; client: Promise<Engine> } | null = null;

/** The client of the engine DOCKER_HOST names now (made again if DOCKER_HOST has changed). */
export function engineClient(): Promise<Engine> {
  const host = process.env.DOCKER_HOST;
  if (engine === null || engine.host !== host) engine = { host, client: import('dockerode').then(({ default: Docker }) => new Docker()) };
  return engine.client;
}

/** Where the engine is, for messages: DOCKER_HOST, or the default socket. */
export function engineAddress(): string {
  return process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST}` : '/var/run/docker.sock';
}

/** An Engine API failure as a PlugdError, naming the engine and keeping the API's message. */
export function engineError(what: string, e: unknown): PlugdError {
  const status = (e as { statusCode?: number }).statusCode;
  const detail = (e as { json?: { message?: string } }).json?.message ?? (e instanceof Error ? e.message : String(e));
  const hint =
    status === 404 && /image/i.test(detail)
      ? ' (plugd does not pull: load the image into the engine first)'
      : status === undefined
        ? ` (is a Docker Engine running at ${engineAddress()}?)`
        : '';
  return new PlugdError('PLUGD_E_ACTIVATION', `${what}: ${detail}${hint}`, { cause: e });
}
