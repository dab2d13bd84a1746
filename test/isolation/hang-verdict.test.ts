import { describe, expect, it } from 'vitest';
import { cpuBudgetUs, hangVerdict, isHung, STARVATION_CAP } from '../../src/isolation/hang-verdict.js';

describe('telling a hung worker from a starved one', () => {
  it('declares hung a thread that ran without beating (a loop that does not yield)', () => {
    expect(isHung(600, 500, { state: 'R', cpuSinceBeatUs: 300_000 })).toBe(true);
  });

  it('gives a thread off-CPU (sleeping) time too, up to the cap: it may wait for shared resources', () => {
    expect(isHung(600, 500, { state: 'S', cpuSinceBeatUs: 0 })).toBe(false);
    expect(isHung(STARVATION_CAP * 500, 500, { state: 'D', cpuSinceBeatUs: 0 })).toBe(true);
  });

  it('gives a runnable thread more time until it has run for its CPU budget: it is waiting for a core', () => {
    expect(cpuBudgetUs(1_000)).toBe(50_000);
    expect(cpuBudgetUs(500)).toBe(25_000);
    expect(cpuBudgetUs(100)).toBe(20_000); // a module load fits however small watchdogMs is
    expect(isHung(600, 500, { state: 'R', cpuSinceBeatUs: 3_000 })).toBe(false);
    // A 20 ms job done at a few % of a core: slow on the wall clock, healthy in its own time.
    expect(isHung(1_500, 500, { state: 'R', cpuSinceBeatUs: 20_000 })).toBe(false);
    expect(isHung(600, 500, { state: 'R', cpuSinceBeatUs: 24_999 })).toBe(false);
    expect(isHung(600, 500, { state: 'R', cpuSinceBeatUs: 25_000 })).toBe(true);
  });

  it('declares hung even a starved thread past the cap, and any overdue thread where /proc says nothing', () => {
    expect(isHung(STARVATION_CAP * 500, 500, { state: 'R', cpuSinceBeatUs: 0 })).toBe(true);
    expect(isHung(600, 500, null)).toBe(true);
  });

  it('names its reason: the CPU budget run, the starvation cap, or nothing to observe', () => {
    expect(hangVerdict(600, 500, { state: 'R', cpuSinceBeatUs: 25_000 })).toBe('cpu-budget');
    expect(hangVerdict(STARVATION_CAP * 500, 500, { state: 'R', cpuSinceBeatUs: 300_000 })).toBe('cpu-budget');
    expect(hangVerdict(STARVATION_CAP * 500, 500, { state: 'T', cpuSinceBeatUs: 0 })).toBe('starvation-cap');
    expect(hangVerdict(600, 500, null)).toBe('unobservable');
    expect(hangVerdict(600, 500, { state: 'R', cpuSinceBeatUs: 3_000 })).toBeNull();
  });
});
