// What `GET /v1/plugins/{name}` adds to inspect(): the last exit and when, the next restart while
// backing off, how full the restart-intensity window is, and the granted permissions.
import type { PluginContext } from '../../machines/plugin.machine.js';
import { DEFAULT_INTENSITY, type PluginStateName } from '../../machines/types.js';
import type { EventHistory } from './event-history.js';

/** What the supervisor knows of a plugin beyond its PluginInfo. */
export interface PluginFacts {
  state: PluginStateName;
  context: PluginContext | undefined;
  grantedEnv: string[];
}

export interface InspectDetails {
  lastExit: {
    reason: string;
    code: number | null;
    error: { code: string; message: string } | null;
    uptimeMs: number;
    at: number | null;
  } | null;
  /** Epoch ms of the next restart while the plugin backs off, else null. */
  nextRestartAt: number | null;
  restartWindow: { restarts: number; maxRestarts: number; periodMs: number };
  permissions: { env: string[] };
}

export function inspectDetails(name: string, facts: PluginFacts, history: EventHistory, now = Date.now()): InspectDetails {
  const { context } = facts;
  const intensity = { ...DEFAULT_INTENSITY, ...context?.restart.intensity };
  const failures = history.of(name).filter((e) => e.to === 'restarting');
  const lastFailure = failures.at(-1);
  const exit = context?.lastExit ?? null;
  return {
    lastExit: exit && { reason: exit.reason, code: exit.code, error: exit.error, uptimeMs: exit.uptimeMs, at: lastFailure?.at ?? null },
    nextRestartAt: facts.state === 'restarting' && lastFailure && context ? lastFailure.at + context.restartDelayMs : null,
    restartWindow: {
      restarts: failures.filter((e) => e.at >= now - intensity.periodMs).length,
      maxRestarts: intensity.maxRestarts,
      periodMs: intensity.periodMs,
    },
    permissions: { env: [...facts.grantedEnv] },
  };
}
