// The restart policy of one plugin: told of each instance exit, it answers RESTART after a
// backoff or GIVE_UP. Docker's four policies and restartmanager backoff, plus OTP's intensity;
// the first restart of a series is immediate (OTP, PM2), the following ones back off.
import { assertEvent, assign, sendParent, setup } from 'xstate';
import {
  DEFAULT_BACKOFF,
  DEFAULT_INTENSITY,
  type BackoffConfig,
  type ExitReason,
  type IntensityConfig,
  type PolicyAnswer,
  type RestartPolicyInput,
  type RestartPolicyName,
} from './types.js';

export interface RestartPolicyContext {
  policy: RestartPolicyName;
  maxRetries: number | null;
  backoff: BackoffConfig;
  intensity: IntensityConfig;
  /** Consecutive failures since the last long-enough run: drives the backoff. */
  failures: number;
  /**
   * Times of past restarts on a timeline built from uptimes and delays, so the intensity
   * window needs no wall clock (and runs the same under a simulated one).
   */
  timeline: number;
  restartTimes: number[];
  nextDelayMs: number;
}

export type RestartPolicyEvent =
  /** `restarts`: those the plugin made since it was enabled (on-failure's retry count; the plugin keeps the one count). */
  { type: 'EXITED'; reason: ExitReason; code: number | null; uptimeMs: number; restarts: number } | { type: 'RESET' };

type Exited = Extract<RestartPolicyEvent, { type: 'EXITED' }>;

function isFailure(e: Exited): boolean {
  return !(e.reason === 'exit' && e.code === 0);
}

/** The keys of `o` whose value is not undefined (a spread must not erase a default). */
function withoutUndefined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function initialContext(input: RestartPolicyInput): RestartPolicyContext {
  return {
    policy: input.policy,
    maxRetries: input.maxRetries ?? null,
    backoff: { ...DEFAULT_BACKOFF, firstMs: input.backoff?.initialMs ?? DEFAULT_BACKOFF.firstMs, ...withoutUndefined(input.backoff) },
    intensity: { ...DEFAULT_INTENSITY, ...input.intensity },
    failures: 0,
    timeline: 0,
    restartTimes: [],
    nextDelayMs: 0,
  };
}

/** Restarts already made inside the intensity window that ends at `now`. */
function restartsInWindow(ctx: RestartPolicyContext, now: number): number {
  return ctx.restartTimes.filter((t) => t > now - ctx.intensity.periodMs).length;
}

export const restartPolicyMachine = setup({
  types: {
    context: {} as RestartPolicyContext,
    events: {} as RestartPolicyEvent,
    input: {} as RestartPolicyInput,
  },
  guards: {
    isUserStop: ({ event }) => {
      assertEvent(event, 'EXITED');
      return event.reason === 'stopped';
    },
    policyForbidsRestart: ({ context, event }) => {
      assertEvent(event, 'EXITED');
      if (context.policy === 'no') return true;
      return context.policy === 'on-failure' && !isFailure(event);
    },
    retriesExhausted: ({ context, event }) => {
      assertEvent(event, 'EXITED');
      return context.policy === 'on-failure' && context.maxRetries !== null && event.restarts >= context.maxRetries;
    },
    intensityExceeded: ({ context, event }) => {
      assertEvent(event, 'EXITED');
      const now = context.timeline + event.uptimeMs;
      return restartsInWindow(context, now) >= context.intensity.maxRestarts;
    },
  },
  actions: {
    recordRestart: assign(({ context, event }) => {
      assertEvent(event, 'EXITED');
      const exited = event;
      const failures = exited.uptimeMs >= context.backoff.resetAfterMs ? 1 : context.failures + 1;
      const { firstMs, initialMs, factor, maxMs } = context.backoff;
      // The first restart of a series at once (OTP), the next ones backed off (Docker).
      const nextDelayMs = Math.min(maxMs, Math.round(failures === 1 ? firstMs : initialMs * factor ** (failures - 1)));
      const restartAt = context.timeline + exited.uptimeMs;
      return {
        failures,
        nextDelayMs,
        timeline: restartAt + nextDelayMs,
        restartTimes: [...context.restartTimes.filter((t) => t > restartAt - context.intensity.periodMs), restartAt],
      };
    }),
    answerRestart: sendParent(({ context }): PolicyAnswer => ({ type: 'RESTART', delayMs: context.nextDelayMs })),
    giveUpByPolicy: sendParent(({ context, event }): PolicyAnswer => {
      assertEvent(event, 'EXITED');
      return {
        type: 'GIVE_UP',
        why:
          context.policy === 'no'
            ? `restart policy "no" does not restart (instance ended: ${event.reason})`
            : 'restart policy "on-failure" does not restart a clean exit (code 0)',
      };
    }),
    giveUpOnRetries: sendParent(
      ({ context }): PolicyAnswer => ({
        type: 'GIVE_UP',
        why: `restart policy "on-failure:${context.maxRetries}" used all ${context.maxRetries} retries`,
      }),
    ),
    giveUpOnIntensity: sendParent(
      ({ context }): PolicyAnswer => ({
        type: 'GIVE_UP',
        why: `more than ${context.intensity.maxRestarts} restarts within ${context.intensity.periodMs} ms (restart intensity)`,
      }),
    ),
    resetCounters: assign(({ context }) => ({ failures: 0, restartTimes: [], nextDelayMs: 0, timeline: context.timeline })),
  },
}).createMachine({
  id: 'restartPolicy',
  context: ({ input }) => initialContext(input),
  initial: 'watching',
  states: {
    watching: {
      on: {
        EXITED: [
          // A stop the user asked for is never answered with a restart.
          { guard: 'isUserStop' },
          { guard: 'policyForbidsRestart', target: 'gaveUp', actions: 'giveUpByPolicy' },
          { guard: 'retriesExhausted', target: 'gaveUp', actions: 'giveUpOnRetries' },
          { guard: 'intensityExceeded', target: 'gaveUp', actions: 'giveUpOnIntensity' },
          { actions: ['recordRestart', 'answerRestart'] },
        ],
      },
    },
    gaveUp: {},
  },
  on: {
    RESET: { target: '.watching', actions: 'resetCounters' },
  },
});
