// Per-plugin call counters kept on the call path as plain numbers: a call costs a Map lookup, two
// clock reads and a bucket search; prom-client only sees the totals at scrape time.

export type CallOutcome = 'ok' | 'error' | 'timeout' | 'not_running';

/** Upper bounds (ms) of the call duration histogram's buckets. */
export const CALL_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

export class CallStats {
  ok = 0;
  error = 0;
  timeout = 0;
  notRunning = 0;
  sumMs = 0;
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  readonly buckets = new Float64Array(CALL_BUCKETS_MS.length + 1);

  observe(ms: number): void {
    this.sumMs += ms;
    let i = 0;
    while (i < CALL_BUCKETS_MS.length && ms > CALL_BUCKETS_MS[i]!) i++;
    this.buckets[i]! += 1;
  }

  get count(): number {
    return this.ok + this.error + this.timeout;
  }
}

export class CallCounters {
  readonly #byPlugin = new Map<string, CallStats>();

  of(name: string): CallStats {
    let stats = this.#byPlugin.get(name);
    if (!stats) {
      stats = new CallStats();
      this.#byPlugin.set(name, stats);
    }
    return stats;
  }

  entries(): IterableIterator<[string, CallStats]> {
    return this.#byPlugin.entries();
  }

  forget(name: string): void {
    this.#byPlugin.delete(name);
  }

  /**
   * Counts a call that reached an instance, when it settles. The caller gets the call's own
   * promise back: the counting hangs beside it and adds no hop to the caller's await.
   */
  track<T>(name: string, call: Promise<T>): Promise<T> {
    const stats = this.of(name);
    const start = performance.now();
    call.then(
      () => {
        stats.ok += 1;
        stats.observe(performance.now() - start);
      },
      (error: unknown) => {
        if ((error as { code?: unknown } | null)?.code === 'PLUGD_E_CALL_TIMEOUT') stats.timeout += 1;
        else stats.error += 1;
        stats.observe(performance.now() - start);
      },
    );
    return call;
  }
}
