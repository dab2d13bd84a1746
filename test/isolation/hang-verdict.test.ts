import { describe, expect, it } from 'vitest';
import { isHung, STARVATION_CAP } from '../../src/isolation/hang-verdict.js';

describe('telling a hung worker from a starved one', () => {
  it('declares hung a thread that ran without beating (a loop that does not yield)', () => {
    expect(isHung(600, 500, { state: 'R', cpuSinceBeatUs: 300_000 })).toBe(true);
  });

  it('gives a thread off-CPU (sleeping) time too, up to the cap: it may wait for shared resources', () => {
    expect(isHung(600, 500, { state: 'S', cpuSinceBeatUs: 0 })).toBe(false);
    expect(isHung(STARVATION_CAP * 500, 500, { state: 'D', cpuSinceBeatUs: 0 })).toBe(true);
  });

  it('gives a runnable thread that barely ran more time: it is waiting for a core', () => {
    expect(isHung(600, 500, { state: 'R', cpuSinceBeatUs: 3_000 })).toBe(false);
    expect(isHung(600, 500, { state: 'R', cpuSinceBeatUs: 6_000 })).toBe(true);
  });

  it('declares hung even a starved thread past the cap, and any overdue thread where /proc says nothing', () => {
    expect(isHung(STARVATION_CAP * 500, 500, { state: 'R', cpuSinceBeatUs: 0 })).toBe(true);
    expect(isHung(600, 500, null)).toBe(true);
  });
});
