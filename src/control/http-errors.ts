// How errors leave the control API: `{ code, message }` with the HTTP status that fits the code.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PlugdError, type ErrorCode } from '../errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  PLUGD_E_OPTION: 400,
  PLUGD_E_MANIFEST: 400,
  PLUGD_E_BUNDLE: 400,
  PLUGD_E_SETTING: 400,
  PLUGD_E_CAPABILITY: 400,
  PLUGD_E_METHOD: 400,
  PLUGD_E_REQUEST: 400,
  PLUGD_E_PERMISSION: 403,
  PLUGD_E_NOT_FOUND: 404,
  PLUGD_E_STATE: 409,
  PLUGD_E_IN_USE: 409,
  PLUGD_E_DEPENDENCY: 409,
  PLUGD_E_EXISTS: 409,
  PLUGD_E_CYCLE: 409,
  PLUGD_E_NOT_RUNNING: 409,
  PLUGD_E_STORE_LOCKED: 409,
  PLUGD_E_PLUGIN_ERROR: 502,
  PLUGD_E_PLUGIN_EXITED: 502,
  PLUGD_E_PLUGIN_HUNG: 502,
  PLUGD_E_PLUGIN_OOM: 502,
  PLUGD_E_ACTIVATION: 502,
  PLUGD_E_REPLY_TOO_LARGE: 502,
  PLUGD_E_PROTOCOL: 502,
  PLUGD_E_ACTIVATION_TIMEOUT: 504,
  PLUGD_E_CALL_TIMEOUT: 504,
  PLUGD_E_CLOSED: 503,
  PLUGD_E_ABORTED: 499, // the client closed the request (nginx's status): no one reads this answer
  PLUGD_E_INTERNAL: 500,
};

export interface ErrorBody {
  code: string;
  message: string;
}

/** The message without the "CODE: " prefix older PlugdErrors carry. */
function plainMessage(error: PlugdError): string {
  const prefix = `${error.code}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

export function statusOf(error: PlugdError): number {
  return STATUS[error.code] ?? 500;
}

export function requestError(message: string): PlugdError {
  return new PlugdError('PLUGD_E_REQUEST', message);
}

/** Fastify's error handler: plugd's errors by code, the framework's (bad JSON, body too large, schema) as PLUGD_E_REQUEST. */
export function replyError(error: FastifyError | PlugdError | Error, _request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof PlugdError) {
    void reply.code(statusOf(error)).send({ code: error.code, message: plainMessage(error) } satisfies ErrorBody);
    return;
  }
  const fastifyError = error as FastifyError;
  const status = fastifyError.statusCode;
  if (fastifyError.validation || (typeof status === 'number' && status >= 400 && status < 500)) {
    void reply.code(status ?? 400).send({ code: 'PLUGD_E_REQUEST', message: error.message } satisfies ErrorBody);
    return;
  }
  // Not plugd's error nor the framework's: a bug, which the answer names as such.
  const internal = new PlugdError('PLUGD_E_INTERNAL', `internal error in plugd (a bug; please report it): ${error.message}`);
  void reply.code(statusOf(internal)).send({ code: internal.code, message: plainMessage(internal) } satisfies ErrorBody);
}
