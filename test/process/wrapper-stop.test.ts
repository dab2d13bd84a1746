// A stop does not wait out the grace when the plugin ends at once: the wrapper exits as soon as the
// plugin's group has ended. The grace here (60 s) is longer than the test may take.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundle, supervisor } from '../helpers.js';
import { statFields } from './proc-scan.js';

const GRACE_MS = 60_000;
/** No health probe may judge the plugin hung on a loaded machine and kill it in the middle of the test. */
const OPTIONS = { stopTimeoutMs: GRACE_MS, watchdogMs: 60_000 };

/** The plugin's pid, its child's and its wrapper's (the plugin's parent). */
async function family(sup: Awaited<ReturnType<typeof supervisor>>) {
  await sup.install(await bundle('proc-family'));
  await sup.enable('proc-family');
  const { plugin, child } = (await (await sup.get('proc-family', 'Family')).call('Family.Pids', {})) as { plugin: number; child: number };
  return { plugin, child, wrapper: Number(statFields(plugin)[1]) };
}

const gone = (pid: number) => !existsSync(`/proc/${pid}`);

/** Gone, or dead and waiting to be reaped (a child the plugin left is reparented to init, which reaps it when it will). */
function ended(pid: number): boolean {
  try {
    return statFields(pid)[0] === 'Z';
  } catch {
    return true;
  }
}

describe('stopping a process plugin that exits at once on SIGTERM', () => {
  it('disable resolves with its wrapper gone, long before the grace', async () => {
    const sup = await supervisor(OPTIONS);
    const { plugin, child, wrapper } = await family(sup);
    expect(gone(wrapper)).toBe(false);
    await sup.disable('proc-family');
    expect(gone(wrapper)).toBe(true);
    expect(gone(plugin)).toBe(true);
    expect(ended(child)).toBe(true); // the wrapper waited for the whole group
  }, 30_000);

  it('close() resolves with its wrapper gone, long before the grace', async () => {
    const sup = await supervisor(OPTIONS);
    const { plugin, child, wrapper } = await family(sup);
    await sup.close();
    expect(gone(wrapper)).toBe(true);
    expect(gone(plugin)).toBe(true);
    expect(ended(child)).toBe(true);
  }, 30_000);
});
