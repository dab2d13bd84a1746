import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../src/logs/rate-limiter.mjs';

describe('the log rate limiter', () => {
  it('admits a burst at once, then ratePerSec lines a second, and drops the rest', () => {
    let now = 0;
    const admit = createRateLimiter(10, 3, () => now);
    expect([admit(), admit(), admit(), admit()]).toEqual([true, true, true, false]);
    now += 100; // one line's worth of tokens at 10/s
    expect([admit(), admit()]).toEqual([true, false]);
    now += 10_000; // refills only up to the burst
    expect([admit(), admit(), admit(), admit()]).toEqual([true, true, true, false]);
  });
});
