import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDropNotice } from '../../src/logs/drop-notice.mjs';

describe('the drop notice', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports at once, then at most once per interval, and the last drops when the interval ends', () => {
    const notices: Array<[number, number]> = [];
    const notice = createDropNotice((dropped, now) => notices.push([dropped, now]), { intervalMs: 1_000 });
    const start = Date.now();
    notice.report();
    expect(notices).toEqual([]); // nothing dropped, nothing said
    for (let i = 0; i < 5; i++) notice.drop();
    notice.report();
    expect(notices).toEqual([[5, start]]);
    vi.advanceTimersByTime(200);
    for (let i = 0; i < 3; i++) notice.drop();
    notice.report();
    notice.report();
    expect(notices).toHaveLength(1); // held until the interval ends...
    vi.advanceTimersByTime(799);
    expect(notices).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(notices).toEqual([
      [5, start],
      [3, start + 1_000],
    ]); // ...with no further line needed
  });

  it('forgets a pending notice when stopped', () => {
    const notices: number[] = [];
    const notice = createDropNotice((dropped) => notices.push(dropped), { intervalMs: 1_000 });
    notice.drop();
    notice.report();
    notice.drop();
    notice.report();
    notice.stop();
    vi.advanceTimersByTime(5_000);
    expect(notices).toEqual([1]);
  });
});
