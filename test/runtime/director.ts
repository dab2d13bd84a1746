// The test's side of the op-gated fixture: plugins ask it, over a BroadcastChannel, whether to
// activate and when to finish deactivating. A verdict is a level: a plugin that asks after it was
// set is answered at once; a held question waits until the test sets a verdict.
import { randomUUID } from 'node:crypto';

export type Hook = 'activate' | 'deactivate';
export type Verdict = 'ok' | 'fail' | 'hold';

interface Question {
  from: string;
  instance: number;
  hook: Hook;
}

export class Director {
  /** The channel's name: give it to plugins as their GATE env. */
  readonly gate = `op-gate-${randomUUID()}`;
  readonly #channel = new BroadcastChannel(this.gate);
  readonly #verdicts = new Map<string, Verdict>();
  readonly #held: Question[] = [];
  readonly #heldListeners = new Set<() => void>();

  constructor() {
    this.#channel.onmessage = (message) => this.#asked((message as { data: Question }).data);
  }

  /** Sets how `name` answers `hook` from now on, and answers its held questions. */
  set(name: string, hook: Hook, verdict: Verdict): void {
    this.#verdicts.set(`${name}:${hook}`, verdict);
    if (verdict === 'hold') return;
    for (const q of this.#held.filter((h) => h.from === name && h.hook === hook)) {
      this.#held.splice(this.#held.indexOf(q), 1);
      this.#answer(q, verdict);
    }
  }

  /** Lets everything go: every hook of every plugin answers "ok". */
  releaseAll(): void {
    for (const key of [...this.#verdicts.keys()]) this.#verdicts.set(key, 'ok');
    this.#defaultVerdict = 'ok';
    for (const q of this.#held.splice(0)) this.#answer(q, 'ok');
  }

  /** Resolves once `name` waits, held, in `hook` (at once if it already does). */
  heldIn(name: string, hook: Hook): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!this.#held.some((q) => q.from === name && q.hook === hook)) return;
        this.#heldListeners.delete(check);
        resolve();
      };
      this.#heldListeners.add(check);
      check();
    });
  }

  close(): void {
    this.#channel.close();
  }

  #defaultVerdict: Verdict = 'ok';

  #asked(q: Question): void {
    const verdict = this.#verdicts.get(`${q.from}:${q.hook}`) ?? this.#defaultVerdict;
    if (verdict !== 'hold') return this.#answer(q, verdict);
    this.#held.push(q);
    for (const listener of [...this.#heldListeners]) listener();
  }

  #answer(q: Question, verdict: Exclude<Verdict, 'hold'>): void {
    this.#channel.postMessage({ to: q.from, instance: q.instance, hook: q.hook, verdict });
  }
}
