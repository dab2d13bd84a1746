// Requests sent on a raw channel and waiting for their reply, matched by a sequence number: the
// method calls of a worker plugin (its call channel) and the questions to the log pump. One timer
// for every deadline, armed for the earliest; whatever is pending is rejected at once when the
// other end goes.

export interface PendingRequest<Reply, Info> {
  info: Info;
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

interface Entry<Reply, Info> extends PendingRequest<Reply, Info> {
  deadline: number;
}

export class PendingRequests<Reply, Info = undefined> {
  readonly #pending = new Map<number, Entry<Reply, Info>>();
  readonly #timedOut: (info: Info) => Error;
  #seq = 0;
  #sweep: NodeJS.Timeout | null = null;
  #sweepAt = Infinity;

  /** `timedOut` makes the error of a request past its deadline. */
  constructor(timedOut: (info: Info) => Error = () => new Error('no reply in time')) {
    this.#timedOut = timedOut;
  }

  /** The id of the next request. */
  nextId(): number {
    return ++this.#seq;
  }

  /** The id given last: a reply naming a higher one answers nothing that was asked. */
  get lastId(): number {
    return this.#seq;
  }

  /** Waits for the reply to request `id`, or rejects past `timeoutMs` (Infinity: no deadline). */
  wait(id: number, info: Info, timeoutMs = Infinity): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      this.#pending.set(id, { info, resolve, reject, deadline });
      if (deadline < this.#sweepAt) this.#arm(deadline);
    });
  }

  /** The request that `id` answers, no longer pending; undefined if it timed out already. */
  take(id: number): PendingRequest<Reply, Info> | undefined {
    const entry = this.#pending.get(id);
    if (entry) this.#pending.delete(id);
    return entry;
  }

  /** Rejects every pending request with `error` (the channel's other end is gone). */
  rejectAll(error: Error): void {
    for (const entry of this.#pending.values()) entry.reject(error);
    this.#pending.clear();
    if (this.#sweep) clearTimeout(this.#sweep);
    this.#sweep = null;
    this.#sweepAt = Infinity;
  }

  #arm(at: number): void {
    if (at === Infinity) return;
    if (this.#sweep) clearTimeout(this.#sweep);
    this.#sweepAt = at;
    this.#sweep = setTimeout(() => this.#expire(), Math.max(0, at - performance.now()));
  }

  /** Rejects the requests past their deadline and re-arms for the next one. */
  #expire(): void {
    this.#sweep = null;
    this.#sweepAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [id, entry] of this.#pending) {
      if (entry.deadline <= now) {
        this.#pending.delete(id);
        entry.reject(this.#timedOut(entry.info));
      } else if (entry.deadline < next) {
        next = entry.deadline;
      }
    }
    this.#arm(next);
  }
}
