// PlugdError and the table of its stable codes: callers branch on `code`, never on message text.
import type { ErrorInfo } from '../machines/types.js';

/** Every code plugd raises, with what it means. Tests check each one is exercised. */
export const ErrorCodes = {
  PLUGD_E_OPTION: "an option or argument given to the supervisor's API is invalid (details.option names it)",
  PLUGD_E_MANIFEST:
    "a plugin.json (or a discovered plugin's spec file) lacks a required key, is unparsable or invalid (details.field names it)",
  PLUGD_E_BUNDLE: 'a bundle cannot be read, or reaches outside itself',
  PLUGD_E_PERMISSION: 'the plugin asks for permissions that were not granted',
  PLUGD_E_EXISTS: 'a plugin with that name or ID is already installed',
  PLUGD_E_NOT_FOUND: 'no installed plugin has that name or ID',
  PLUGD_E_CAPABILITY: 'the plugin does not implement that capability',
  PLUGD_E_CYCLE: 'the requires of installed plugins would form a cycle',
  PLUGD_E_DEPENDENCY: 'a required plugin is missing or was disabled, or others still require this one',
  PLUGD_E_STATE: "the operation is not allowed in the plugin's current state",
  PLUGD_E_IN_USE: 'the plugin is acquired by the host; release it or pass { force: true }',
  PLUGD_E_SETTING: 'a setting names an env variable that is unknown or not settable',
  PLUGD_E_NOT_RUNNING: 'the plugin has no running instance to take the call',
  PLUGD_E_CALL: 'a call names no method, or its arguments cannot be sent to the plugin',
  PLUGD_E_METHOD: 'the plugin does not define that method',
  PLUGD_E_CALL_TIMEOUT: 'a call did not answer within callTimeoutMs',
  PLUGD_E_ACTIVATION: 'the plugin could not be loaded or started, activate() threw, or its Implements misses a declared type',
  PLUGD_E_ACTIVATION_TIMEOUT: "activate() (or a process plugin's handshake) did not answer within activationTimeoutMs",
  PLUGD_E_PLUGIN_HUNG: 'the plugin blocked its event loop (or ignored health checks) longer than watchdogMs and was terminated',
  PLUGD_E_PLUGIN_OOM: 'the plugin ran out of its heap (memoryLimitMb) and was terminated',
  PLUGD_E_PLUGIN_EXITED: "the plugin's worker or process exited or crashed",
  PLUGD_E_PLUGIN_ERROR: "a plugin method threw or answered an error; the plugin's error is the cause",
  PLUGD_E_PROTOCOL: 'a plugin thread or process sent a malformed message; that instance was ended',
  PLUGD_E_REPLY_TOO_LARGE: "a plugin's answer in Docker's protocol was larger than the limit (64 MiB); it was read no further",
  PLUGD_E_STORE: 'the store on disk cannot be read or written, or holds a corrupt record',
  PLUGD_E_STORE_LOCKED: 'another live supervisor holds the store (one supervisor per root)',
  PLUGD_E_CLOSED: 'the supervisor is closed',
  PLUGD_E_ABORTED: 'an install or upgrade was cancelled through its signal',
  PLUGD_E_INTEGRITY: 'a package downloaded from the registry does not match its integrity hash',
  PLUGD_E_REGISTRY: 'the npm registry is unreachable, timed out or refused the request',
  PLUGD_E_REQUEST: 'a control API request is malformed: bad JSON, too large, an unknown route or method',
  PLUGD_E_INTERNAL: 'a bug in plugd: an unexpected error escaped it (the message says what); please report it',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** The plain shape an error takes in machine context and across thread boundaries. */
export type { ErrorInfo };

/** A code at the start of a message, as plugd wrote them before messages lost their code. */
const LEADING_CODE = /^(?:PLUGD_E_[A-Z_]+: )+/;

/**
 * The only error class plugd throws or rejects with. `message` says what happened and what to
 * do; the code is in `code`, and `toString()`, the stack and `util.inspect` show both as
 * `PlugdError [PLUGD_E_X]: …` (as @fastify/error does).
 *
 * @example
 * try { await sup.get('hello', 'Greeter') }
 * catch (e) { if (e instanceof PlugdError && e.code === 'PLUGD_E_NOT_FOUND') install() }
 */
export class PlugdError extends Error {
  declare name: 'PlugdError';
  readonly code: ErrorCode;
  /** Extra facts for the caller (the field, the plugin, the cycle...). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
    // The stack's first line is written once, now: it shows the code the way toString() does.
    Object.defineProperty(this, 'name', { value: `PlugdError [${code}]`, configurable: true, writable: true });
    Error.captureStackTrace?.(this, new.target);
    void this.stack;
    Object.defineProperty(this, 'name', { value: 'PlugdError', configurable: true, writable: true });
  }

  override toString(): string {
    return `PlugdError [${this.code}]: ${this.message}`;
  }

  /** The plain form kept in snapshots and shown by `inspect`. */
  toInfo(): ErrorInfo {
    const info: ErrorInfo = { code: this.code, message: this.message };
    if (this.details !== undefined) info.details = this.details;
    if (this.cause instanceof Error) {
      const { name, message } = this.cause;
      const code = (this.cause as Error & { code?: unknown }).code;
      info.cause = typeof code === 'string' ? { name, message, code } : { name, message };
    }
    return info;
  }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ErrorCodes, code);
}

/** A message without the code that older plugd versions put in front of it. */
export function withoutCode(message: string): string {
  return message.replace(LEADING_CODE, '');
}

/** Rebuilds a PlugdError from its plain form (as kept in machine context, or by an older plugd). */
export function fromInfo(info: ErrorInfo): PlugdError {
  const code = isErrorCode(info.code) ? info.code : 'PLUGD_E_PLUGIN_ERROR';
  const cause = info.cause && Object.assign(new Error(info.cause.message), info.cause);
  return new PlugdError(code, withoutCode(info.message), {
    ...(info.details === undefined ? {} : { details: info.details }),
    ...(cause ? { cause } : {}),
  });
}

/**
 * The PlugdError an error that crossed a thread or a process stands for: a PlugdError as is, an
 * error carrying a plugd code rebuilt with its own message, details and cause (not wrapped, and
 * never its own cause). Anything else: undefined, for the caller to wrap once.
 */
export function asPlugdError(e: unknown): PlugdError | undefined {
  if (e instanceof PlugdError) return e;
  if (!(e instanceof Error)) return undefined;
  const { code, details } = e as Error & { code?: unknown; details?: unknown };
  if (!isErrorCode(code)) return undefined;
  return new PlugdError(code, withoutCode(e.message), {
    cause: e.cause,
    details: typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : undefined,
  });
}

export function isPlugdError(e: unknown, code?: ErrorCode): e is PlugdError {
  return e instanceof PlugdError && (code === undefined || e.code === code);
}
