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

/**
 * The thread's V8 heap, in KiB, as its own `v8.getHeapStatistics()` reports it (`used_heap_size`,
 * `total_heap_size`, `heap_size_limit`): the main thread of Node 20 cannot read another thread's heap. Written about
 * once a second on the heartbeat; 0 until the first write, and always 0 for instances that are
 * not worker threads. Read as unsigned (`>>> 0`): up to 4 TiB.
 */
export const HEAP_USED_KIB = 5;
export const HEAP_TOTAL_KIB = 6;
/** `heap_size_limit`: what the heap may grow to before the thread ends out of memory. */
export const HEAP_LIMIT_KIB = 7;

export const SLOT_COUNT = 8;
