// The request/reply table of the raw channels (worker plugin calls, log pump questions).
import { describe, expect, it } from 'vitest';
import { PendingRequests } from '../../src/isolation/pending-requests.js';

describe('pending requests', () => {
  it('settles each request with the reply that names it, in any order', async () => {
    const pending = new PendingRequests<string>();
    const a = pending.nextId();
    const first = pending.wait(a, undefined);
    const b = pending.nextId();
    const second = pending.wait(b, undefined);
    pending.take(b)!.resolve('for b');
    pending.take(a)!.resolve('for a');
    await expect(Promise.all([first, second])).resolves.toEqual(['for a', 'for b']);
    expect(pending.take(a)).toBeUndefined();
    expect(pending.lastId).toBe(b);
  });

  it('rejects a request past its deadline with its own error; its late reply answers nothing', async () => {
    const pending = new PendingRequests<string, string>((method) => new Error(`no answer to ${method}`));
    const slow = pending.nextId();
    const late = pending.wait(slow, 'Slow.Method', 20);
    const patient = pending.nextId();
    const waiting = pending.wait(patient, 'Patient.Method', 60_000);
    await expect(late).rejects.toThrow('no answer to Slow.Method');
    expect(pending.take(slow)).toBeUndefined();
    pending.take(patient)!.resolve('in time');
    await expect(waiting).resolves.toBe('in time');
  });

  it('rejects everything pending when the other end goes', async () => {
    const pending = new PendingRequests<string>();
    const asked = [pending.wait(pending.nextId(), undefined, 60_000), pending.wait(pending.nextId(), undefined)];
    pending.rejectAll(new Error('gone'));
    for (const p of asked) await expect(p).rejects.toThrow('gone');
  });
});
