// Constants both sides of the plugin worker boundary use at run time.

// The layout of the Int32Array over each instance's SharedArrayBuffer. The worker writes these
// counters and the main thread reads them with Atomics: no message per beat or per dropped line.

/** Bumped by the worker's heartbeat timer; the watchdog samples it. */
export const HEARTBEAT = 0;
/** Log lines the worker dropped because they exceeded its rate limit. */
export const DROPPED_LINES = 1;
/** Log lines the worker passed on to the log pump. */
export const LOGGED_LINES = 2;

/** The worker thread's Linux TID, so the watchdog can ask /proc whether it ran or starved. */
export const THREAD_ID = 3;
/** The thread's on-CPU time at its last heartbeat, in µs modulo 2^32 (0 where unknown). */
export const CPU_AT_BEAT = 4;

export const SLOT_COUNT = 5;
