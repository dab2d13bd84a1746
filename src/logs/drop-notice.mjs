// The line that tells a reader of a plugin's log that lines were dropped: at most one per
// interval, so a flood cannot flood its own notices. Drops made inside an interval are reported
// when it ends, even if the plugin falls silent. Used beside each rate limiter (worker plugins
// at the source, process plugins in the log pump).

export const DROP_NOTICE_INTERVAL_MS = 1_000;

/**
 * @param {(dropped: number, now: number) => void} emit writes the notice
 * @param {{ intervalMs?: number, now?: () => number }} [options]
 */
export function createDropNotice(emit, options = {}) {
  const intervalMs = options.intervalMs ?? DROP_NOTICE_INTERVAL_MS;
  const now = options.now ?? Date.now;
  let pending = 0;
  let noticeAt = -Infinity;
  /** @type {NodeJS.Timeout | null} */
  let timer = null;

  function report() {
    if (pending === 0) return;
    const t = now();
    if (t - noticeAt >= intervalMs) {
      const dropped = pending;
      pending = 0;
      noticeAt = t;
      emit(dropped, t);
    } else if (!timer) {
      timer = setTimeout(
        () => {
          timer = null;
          report();
        },
        noticeAt + intervalMs - t,
      );
      timer.unref();
    }
  }

  return {
    /** Counts one dropped line. */
    drop() {
      pending += 1;
    },
    /** Writes the notice now if the interval allows, else when it ends. */
    report,
    /** Forgets a pending notice (the log is going away). */
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

/** @param {number} dropped @param {number} ratePerSec */
export function dropNoticeMessage(dropped, ratePerSec) {
  return `log flood: dropped ${dropped} lines over the limit of ${ratePerSec}/s`;
}
