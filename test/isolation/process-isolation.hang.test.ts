import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { STARVATION_CAP } from '../../src/isolation/hang-verdict.js';
import { answersPing } from '../../src/isolation/process-hang.js';
import { onCleanup } from '../helpers.js';

/** A child that answers each IPC message it gets, until told to spin; resolves once it is ready. */
function child(): Promise<{ proc: ChildProcess; ended: Promise<unknown>; ping: () => Promise<void> | null }> {
  const proc = spawn(
    process.execPath,
    ['-e', "process.on('message', (m) => { if (m === 'spin') for (;;); process.send(m); }); process.send('ready');"],
    {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    },
  );
  onCleanup(() => proc.kill('SIGKILL'));
  const ended = new Promise((resolve) => proc.once('exit', resolve));
  let seq = 0;
  const ping = () => {
    if (!proc.connected) return null;
    const mine = ++seq;
    const answered = new Promise<void>((resolve) =>
      proc.on('message', (m) => {
        if (m === mine) resolve();
      }),
    );
    proc.send(mine);
    return answered;
  };
  return new Promise((resolve) => proc.once('message', () => resolve({ proc, ended, ping })));
}

describe('the health probe of a plugin process', () => {
  it('is answered by a process whose event loop runs', async () => {
    const { proc, ended, ping } = await child();
    await expect(answersPing(proc.pid!, 200, ended, ping)).resolves.toBe(true);
  });

  it('finds a process that spins without yielding hung', async () => {
    const { proc, ended, ping } = await child();
    proc.send('spin');
    await expect(answersPing(proc.pid!, 200, ended, ping)).resolves.toBe(false);
  });

  it('gives a process that does not run (stopped, as a starved one) STARVATION_CAP × watchdogMs before calling it hung', async () => {
    const { proc, ended, ping } = await child();
    await expect(answersPing(proc.pid!, 200, ended, ping)).resolves.toBe(true);
    proc.kill('SIGSTOP');
    const at = performance.now();
    await expect(answersPing(proc.pid!, 200, ended, ping)).resolves.toBe(false);
    expect(performance.now() - at).toBeGreaterThanOrEqual(STARVATION_CAP * 200);
  });

  it('counts a process that ends while probed as answered (its exit tells why)', async () => {
    const { proc, ended, ping } = await child();
    proc.send('spin');
    const verdict = answersPing(proc.pid!, 10_000, ended, ping);
    proc.kill('SIGKILL');
    await expect(verdict).resolves.toBe(true);
  });
});
