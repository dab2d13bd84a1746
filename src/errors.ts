// PlugdError and the table of its stable codes: callers branch on `code`, never on message text.
import type { ErrorInfo } from '../machines/types.js';

/** Every code plugd raises, with what it means. Tests check each one is exercised. */
export const ErrorCodes = {
  PLUGD_E_OPTION: 'an option passed to the public API is invalid',
  PLUGD_E_MANIFEST: 'a plugin.json is missing, unparsable or invalid',
  PLUGD_E_BUNDLE: 'a bundle cannot be read, or reaches outside itself',
  PLUGD_E_PERMISSION: 'the plugin asks for permissions that were not granted',
  PLUGD_E_EXISTS: 'a plugin with that name or ID is already installed',
  PLUGD_E_NOT_FOUND: 'no installed plugin has that name or ID',
  PLUGD_E_CAPABILITY: 'the plugin does not implement that capability',
  PLUGD_E_CYCLE: 'the requires of installed plugins form a cycle',
  PLUGD_E_DEPENDENCY: 'a required plugin is missing, or others still require this one',
  PLUGD_E_STATE: 'the operation is not allowed in the plugin\'s current state',
  PLUGD_E_IN_USE: 'the plugin is acquired by the host; pass { force: true }',
  PLUGD_E_SETTING: 'a setting names an env variable that is unknown or not settable',
  PLUGD_E_NOT_RUNNING: 'the plugin has no running instance to take the call',
  PLUGD_E_METHOD: 'the plugin does not define that method',
  PLUGD_E_CALL_TIMEOUT: 'a call did not answer within callTimeoutMs',
  PLUGD_E_ACTIVATION: 'activate() threw, or its Implements does not cover interface.types',
  PLUGD_E_ACTIVATION_TIMEOUT: 'activate() did not return within activationTimeoutMs',
  PLUGD_E_PLUGIN_HUNG: 'the plugin blocked its event loop longer than watchdogMs and was terminated',
  PLUGD_E_PLUGIN_OOM: 'the plugin ran out of its heap (memoryLimitMb) and was terminated',
  PLUGD_E_PLUGIN_EXITED: 'the plugin\'s worker exited (uncaught error or process.exit)',
  PLUGD_E_PLUGIN_ERROR: 'a plugin method threw; the plugin\'s error is the cause',
  PLUGD_E_PROTOCOL: 'a plugin thread or process sent a malformed message; that instance was ended',
  PLUGD_E_STORE: 'the store on disk cannot be read or written',
  PLUGD_E_STORE_LOCKED: 'another live supervisor holds the store (one supervisor per root)',
  PLUGD_E_CLOSED: 'the supervisor is closed',
  PLUGD_E_REQUEST: 'a control API request is malformed: bad JSON, too large, an unknown route or method',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** The plain shape an error takes in machine context and across thread boundaries. */
export type { ErrorInfo };

/**
 * The only error class plugd throws or rejects with.
 *
 * @example
 * try { await sup.get('hello', 'Greeter') }
 * catch (e) { if (e instanceof PlugdError && e.code === 'PLUGD_E_NOT_FOUND') install() }
 */
export class PlugdError extends Error {
  override name = 'PlugdError';
  readonly code: ErrorCode;
  /** Extra facts for the caller (the field, the plugin, the cycle...). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(`${code}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  /** The plain form kept in snapshots and shown by `inspect`. */
  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}

/** Rebuilds a PlugdError from its plain form (as kept in machine context). */
export function fromInfo(info: ErrorInfo): PlugdError {
  const code = (info.code in ErrorCodes ? info.code : 'PLUGD_E_PLUGIN_ERROR') as ErrorCode;
  const message = info.message.startsWith(`${code}: `) ? info.message.slice(code.length + 2) : info.message;
  return new PlugdError(code, message);
}

export function isPlugdError(e: unknown, code?: ErrorCode): e is PlugdError {
  return e instanceof PlugdError && (code === undefined || e.code === code);
}
