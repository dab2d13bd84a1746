// The health probes of process plugins judge a silent plugin by its CPU time, as the thread
// watchdog does: one that does not run (stopped here, as one starved of a core under load would
// be) is given STARVATION_CAP × watchdogMs, one that spins without answering is hung soon.
import { describe, expect, it } from 'vitest';
import { STARVATION_CAP } from '../../src/isolation/hang-verdict.js';
import type { Supervisor } from '../../src/index.js';
import { bundle, nextState, onCleanup, supervisor } from '../helpers.js';

const WATCHDOG_MS = 500;

async function runningProcHang(): Promise<{ sup: Supervisor; pid: number; call: (method: string) => Promise<unknown> }> {
  const sup = await supervisor({ watchdogMs: WATCHDOG_MS, stopTimeoutMs: 300 });
  await sup.install(await bundle('proc-hang'));
  await sup.enable('proc-hang');
  const client = await sup.get('proc-hang', 'Spin');
  const { pong: pid } = (await client.call('Spin.Ping', {})) as { pong: number };
  onCleanup(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  return { sup, pid, call: (method) => client.call(method, {}) };
}

const hungAgain = (sup: Supervisor) => nextState(sup, 'proc-hang', 'restarting', (e) => e.error?.code === 'PLUGD_E_PLUGIN_HUNG');

describe.skipIf(process.platform !== 'linux')('health probes of a process plugin', () => {
  it(`give a plugin that does not run (SIGSTOP) ${STARVATION_CAP} × watchdogMs before calling it hung`, async () => {
    const { sup, pid } = await runningProcHang();
    const hung = hungAgain(sup);
    const stoppedAt = performance.now();
    process.kill(pid, 'SIGSTOP');
    const { error } = await hung;
    expect(performance.now() - stoppedAt).toBeGreaterThanOrEqual(STARVATION_CAP * WATCHDOG_MS);
    expect(error?.details).toEqual({ verdict: 'starvation-cap' });
  }, 30_000);

  it('call a plugin that spins without answering hung before that allowance: for the CPU it ran', async () => {
    const { sup, call } = await runningProcHang();
    const hung = hungAgain(sup);
    void call('Spin.Forever').catch(() => undefined);
    const { error } = await hung;
    expect(error?.details).toEqual({ verdict: 'cpu-budget' });
  }, 30_000);
});
