// The errors an instance's end gives to its pending calls and to `inspect().lastError`.
import { PlugdError } from '../errors.js';
import type { ExitReason } from '../../machines/types.js';

export function exitError(name: string, reason: ExitReason, detail: { code?: number | null; cause?: unknown; watchdogMs?: number; memoryLimitMb?: number }): PlugdError {
  const cause = detail.cause === undefined ? {} : { cause: detail.cause };
  const why = detail.cause instanceof Error ? `: ${detail.cause.message}` : '';
  switch (reason) {
    case 'hung':
      return new PlugdError('PLUGD_E_PLUGIN_HUNG', `plugin "${name}" blocked its event loop for more than ${detail.watchdogMs} ms and was terminated; move long synchronous work out of the plugin's event loop`, cause);
    case 'oom':
      return new PlugdError('PLUGD_E_PLUGIN_OOM', `plugin "${name}" ran out of memory (heap limit ${detail.memoryLimitMb} MB, memoryLimitMb) and was terminated`, cause);
    case 'crash':
      return new PlugdError('PLUGD_E_PLUGIN_EXITED', `plugin "${name}" crashed${why}`, cause);
    case 'exit':
      return new PlugdError('PLUGD_E_PLUGIN_EXITED', `plugin "${name}" exited with code ${detail.code}`, cause);
    case 'activation-failed':
      return new PlugdError('PLUGD_E_ACTIVATION', `plugin "${name}" failed to activate${why}`, cause);
    case 'activation-timeout':
      return new PlugdError('PLUGD_E_ACTIVATION_TIMEOUT', `plugin "${name}" did not activate in time`, cause);
    case 'stopped':
      return new PlugdError('PLUGD_E_NOT_RUNNING', `plugin "${name}" was stopped`, cause);
  }
}
