// The token bucket that bounds a plugin's log output: `burst` lines at once, then `ratePerSec`.
// Used where lines are produced (inside a worker plugin) and where process plugins' lines arrive
// (the log pump thread), one bucket per plugin instance.

/**
 * @param {number} ratePerSec @param {number} burst
 * @param {() => number} [now] the clock in ms (tests pass their own)
 * @returns {() => boolean} takes a token for one line: false means drop it
 */
export function createRateLimiter(ratePerSec, burst, now = Date.now) {
  let tokens = burst;
  let refilledAt = now();
  return () => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - refilledAt) * ratePerSec) / 1000);
    refilledAt = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}
