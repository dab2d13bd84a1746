import { describe, expect, it } from 'vitest';
import { createActor, setup, type AnyActorRef } from 'xstate';
import { restartPolicyMachine } from '../../machines/restart-policy.machine.js';
import type { PolicyAnswer, RestartPolicyInput } from '../../machines/types.js';

/** Runs the policy as a child of a recorder, the way the plugin machine invokes it. */
function startPolicy(input: RestartPolicyInput) {
  const answers: PolicyAnswer[] = [];
  const parent = setup({ actors: { policy: restartPolicyMachine } }).createMachine({
    invoke: { id: 'policy', src: 'policy', input },
    on: {
      RESTART: { actions: ({ event }) => answers.push(event as PolicyAnswer) },
      GIVE_UP: { actions: ({ event }) => answers.push(event as PolicyAnswer) },
    },
  });
  const actor = createActor(parent).start();
  const policy = actor.getSnapshot().children.policy as AnyActorRef;
  // The plugin keeps the restart count and tells it with each exit; an ENABLE resets it.
  let restarts = 0;
  const exit = (reason: string, code: number | null = 1, uptimeMs = 50) => {
    const before = answers.length;
    policy.send({ type: 'EXITED', reason, code, uptimeMs, restarts });
    if (answers.length > before && answers.at(-1)?.type === 'RESTART') restarts++;
    return answers.at(-1);
  };
  const reset = () => {
    restarts = 0;
    policy.send({ type: 'RESET' });
  };
  return { answers, exit, reset };
}

describe('restart policy "no"', () => {
  it('gives up on the first exit, whatever its reason', () => {
    const { exit } = startPolicy({ policy: 'no' });
    expect(exit('crash')).toMatchObject({ type: 'GIVE_UP', why: expect.stringContaining('"no"') });
  });
});

describe('restart policy "on-failure"', () => {
  it('restarts a failing plugin maxRetries times, then gives up', () => {
    const { exit, answers } = startPolicy({ policy: 'on-failure', maxRetries: 2 });
    expect(exit('crash')).toEqual({ type: 'RESTART', delayMs: 0 });
    expect(exit('hung')).toEqual({ type: 'RESTART', delayMs: 200 });
    expect(exit('oom')).toMatchObject({ type: 'GIVE_UP', why: expect.stringContaining('on-failure:2') });
    expect(answers).toHaveLength(3);
  });

  it('does not restart a clean exit (code 0)', () => {
    const { exit } = startPolicy({ policy: 'on-failure' });
    expect(exit('exit', 0)).toMatchObject({ type: 'GIVE_UP', why: expect.stringContaining('clean exit') });
  });

  it('restarts a non-zero exit without a retry limit when maxRetries is absent', () => {
    const { exit } = startPolicy({ policy: 'on-failure', intensity: { maxRestarts: 1000 } });
    for (let i = 0; i < 20; i++) expect(exit('exit', 3)?.type).toBe('RESTART');
  });
});

describe.each(['always', 'unless-stopped'] as const)('restart policy "%s"', (policy) => {
  it('restarts even a clean exit', () => {
    const { exit } = startPolicy({ policy });
    expect(exit('exit', 0)).toEqual({ type: 'RESTART', delayMs: 0 });
  });

  it('never answers a stop the user asked for', () => {
    const { exit, answers } = startPolicy({ policy });
    exit('stopped', 0);
    expect(answers).toEqual([]);
  });
});

describe('backoff (at once first, as OTP; then Docker restartmanager numbers)', () => {
  it('restarts at once the first time, then waits 200 ms, doubling per consecutive failure, capped at 60 s', () => {
    const { exit } = startPolicy({ policy: 'always', intensity: { maxRestarts: 1000 } });
    const delays = Array.from({ length: 12 }, () => (exit('crash', 1, 10) as { delayMs: number }).delayMs);
    expect(delays).toEqual([0, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  });

  it("keeps Docker's whole series when initialMs is given, and takes firstMs on its own", () => {
    const docker = startPolicy({ policy: 'always', backoff: { initialMs: 100 } });
    expect([1, 2, 3].map(() => (docker.exit('crash') as { delayMs: number }).delayMs)).toEqual([100, 200, 400]);
    const first = startPolicy({ policy: 'always', backoff: { firstMs: 30, initialMs: 100 } });
    expect([1, 2, 3].map(() => (first.exit('crash') as { delayMs: number }).delayMs)).toEqual([30, 200, 400]);
  });

  it('still gives up a plugin that crashes at once in a loop: the intensity window holds', () => {
    const { exit } = startPolicy({ policy: 'always', intensity: { maxRestarts: 3, periodMs: 60_000 } });
    const answers = Array.from({ length: 4 }, () => exit('crash', 1, 5));
    expect(answers.slice(0, 3).map((a) => a?.type)).toEqual(['RESTART', 'RESTART', 'RESTART']);
    expect(answers[3]).toMatchObject({ type: 'GIVE_UP', why: expect.stringContaining('more than 3 restarts within 60000 ms') });
  });

  it('resets to the start after an instance ran 10 s', () => {
    const { exit } = startPolicy({ policy: 'always' });
    exit('crash');
    exit('crash');
    expect(exit('crash')).toEqual({ type: 'RESTART', delayMs: 400 });
    expect(exit('crash', 1, 10_000)).toEqual({ type: 'RESTART', delayMs: 0 });
  });

  it('takes its numbers from the input', () => {
    const { exit } = startPolicy({ policy: 'always', backoff: { initialMs: 5, factor: 3, maxMs: 50 } });
    expect([exit('crash'), exit('crash'), exit('crash')].map((a) => (a as { delayMs: number }).delayMs)).toEqual([5, 15, 45]);
    expect(exit('crash')).toEqual({ type: 'RESTART', delayMs: 50 });
  });
});

describe('restart intensity (OTP)', () => {
  it('gives up on more than maxRestarts restarts within periodMs, whatever the policy', () => {
    const { exit } = startPolicy({
      policy: 'always',
      intensity: { maxRestarts: 3, periodMs: 10_000 },
      backoff: { initialMs: 10, factor: 1 },
    });
    expect([exit('crash'), exit('crash'), exit('crash')].every((a) => a?.type === 'RESTART')).toBe(true);
    expect(exit('crash')).toMatchObject({ type: 'GIVE_UP', why: expect.stringContaining('more than 3 restarts within 10000 ms') });
  });

  it('forgets restarts older than the window', () => {
    const { exit } = startPolicy({
      policy: 'always',
      intensity: { maxRestarts: 2, periodMs: 1_000 },
      backoff: { initialMs: 10, factor: 1 },
    });
    exit('crash', 1, 10);
    exit('crash', 1, 10);
    // The next instance ran 2 s: the earlier restarts fall outside the 1 s window.
    expect(exit('crash', 1, 2_000)?.type).toBe('RESTART');
  });
});

describe('RESET', () => {
  it('gives back the retries and restarts the backoff after a give-up', () => {
    const { exit, reset } = startPolicy({ policy: 'on-failure', maxRetries: 1 });
    exit('crash');
    expect(exit('crash')?.type).toBe('GIVE_UP');
    reset();
    expect(exit('crash')).toEqual({ type: 'RESTART', delayMs: 0 });
  });
});
