// How an error leaves the control API, through the handler the control server installs: one
// that is neither plugd's nor the framework's is a bug, answered as PLUGD_E_INTERNAL with 500.
// The control server's own routes only throw PlugdErrors, so a test-only server built with the
// same handler provides a route that throws a plain Error.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { replyError } from '../../src/control/http-errors.js';
import { ErrorCodes, PlugdError } from '../../src/errors.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serverWith(route: () => unknown): Promise<FastifyInstance> {
  app = Fastify({ logger: false });
  app.setErrorHandler(replyError);
  app.get('/boom', async () => route());
  await app.ready();
  return app;
}

describe('errors of the control API', () => {
  it('answers an unexpected error as PLUGD_E_INTERNAL (500), saying it is a bug to report, with its message', async () => {
    const server = await serverWith(() => {
      throw new TypeError('cannot read properties of undefined');
    });
    const res = await server.inject({ method: 'GET', url: '/boom' });
    expect(res.statusCode).toBe(500);
    const body = res.json() as { code: string; message: string };
    expect(body.code).toBe('PLUGD_E_INTERNAL');
    expect(Object.keys(ErrorCodes)).toContain(body.code);
    expect(body.message).toContain('cannot read properties of undefined');
    expect(body.message).toMatch(/bug.*report/);
  });

  it('answers a PlugdError with its own code and status, not PLUGD_E_INTERNAL', async () => {
    const server = await serverWith(() => {
      throw new PlugdError('PLUGD_E_NOT_FOUND', 'no plugin "x"');
    });
    const res = await server.inject({ method: 'GET', url: '/boom' });
    expect({ status: res.statusCode, code: (res.json() as { code: string }).code }).toEqual({ status: 404, code: 'PLUGD_E_NOT_FOUND' });
  });
});
