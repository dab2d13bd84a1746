// The errors an instance's end gives to its pending calls and to `inspect().lastError`.
import { asPlugdError, PlugdError } from '../errors.js';
import type { ExitReason } from '../../machines/types.js';

export interface ExitDetail {
  code?: number | null;
  cause?: unknown;
  watchdogMs?: number;
  memoryLimitMb?: number;
  /** The last lines the plugin wrote to stderr (process plugins), oldest first. */
  stderr?: readonly string[];
  /** Whether the instance ended before its activation finished. */
  activating?: boolean;
}

/**
 * The error for an instance's end. An error that already carries a plugd code (a PlugdError, or
 * one rebuilt from another thread) is kept, not wrapped again; any other cause is wrapped once.
 */
export function exitError(name: string, reason: ExitReason, detail: ExitDetail): PlugdError {
  const coded = asPlugdError(detail.cause);
  if (coded) return reason === 'activation-failed' ? namingPlugin(name, coded) : coded;
  const cause = detail.cause === undefined ? {} : { cause: detail.cause };
  const why = detail.cause instanceof Error ? `: ${detail.cause.message}` : detail.cause === undefined ? '' : `: ${String(detail.cause)}`;
  switch (reason) {
    case 'hung':
      return new PlugdError(
        'PLUGD_E_PLUGIN_HUNG',
        `plugin "${name}" blocked its event loop for more than ${detail.watchdogMs} ms and was terminated; move long ` +
          `synchronous work out of the plugin's event loop`,
        cause,
      );
    case 'oom':
      return new PlugdError(
        'PLUGD_E_PLUGIN_OOM',
        `plugin "${name}" ran out of memory (heap limit ${detail.memoryLimitMb} MB, memoryLimitMb) and was terminated`,
        cause,
      );
    case 'crash':
      return new PlugdError(
        'PLUGD_E_PLUGIN_EXITED',
        `plugin "${name}" crashed${during(detail)}${why}${lastLines(detail.stderr)}`,
        withStderr(cause, detail.stderr),
      );
    case 'exit':
      return new PlugdError(
        'PLUGD_E_PLUGIN_EXITED',
        `plugin "${name}" exited with code ${detail.code}${during(detail)}${lastLines(detail.stderr)}`,
        withStderr(cause, detail.stderr),
      );
    case 'activation-failed':
      return new PlugdError('PLUGD_E_ACTIVATION', `plugin "${name}" failed to activate${why}`, cause);
    case 'activation-timeout':
      return new PlugdError('PLUGD_E_ACTIVATION_TIMEOUT', `plugin "${name}" did not activate in time`, cause);
    case 'stopped':
      return new PlugdError('PLUGD_E_NOT_RUNNING', `plugin "${name}" was stopped`, cause);
  }
}

/** A coded activation error that does not say which plugin failed gets the plugin's name. */
function namingPlugin(name: string, error: PlugdError): PlugdError {
  if (error.message.includes(`plugin "${name}"`)) return error;
  return new PlugdError(error.code, `plugin "${name}" failed to activate: ${error.message}`, {
    cause: error.cause,
    details: error.details,
  });
}

function during(detail: ExitDetail): string {
  return detail.activating ? ' before it activated' : '';
}

/** The last stderr lines, shown under the message as systemd's status shows a unit's last log lines. */
function lastLines(stderr: readonly string[] | undefined): string {
  if (!stderr || stderr.length === 0) return '';
  return `; its last lines on stderr:\n${stderr.map((line) => `  ${line}`).join('\n')}`;
}

function withStderr(
  cause: { cause?: unknown },
  stderr: readonly string[] | undefined,
): { cause?: unknown; details?: Record<string, unknown> } {
  return stderr && stderr.length > 0 ? { ...cause, details: { stderr: [...stderr] } } : cause;
}
