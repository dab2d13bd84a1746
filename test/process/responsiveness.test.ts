import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, EXAMPLES, supervisor } from '../helpers.js';
import { marked } from './proc-scan.js';

/** The live children of each thread of this process, by thread id (/proc/self/task/<tid>/children). */
function childrenByThread(): Map<number, number[]> {
  const found = new Map<number, number[]>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const children = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
      found.set(Number(tid), children === '' ? [] : children.split(/\s+/).map(Number));
    } catch {
      // the thread ended meanwhile
    }
  }
  return found;
}

describe('20 process plugins starting at once', () => {
  // Their wrappers are forked on the spawner thread, never on the host's main thread, so a burst
  // of starts does not stall the host. (The host's event-loop delay during such a burst is the
  // bench's to measure: `npm run bench -- --only procs`.)
  it('all run, each through a wrapper that the main thread did not fork', async () => {
    const sup = await supervisor();
    const names = Array.from({ length: 20 }, (_, i) => `volumes-${i}`);
    for (const name of names) await sup.install(await bundle(path.join(EXAMPLES, 'volumes'), { name }));
    await Promise.all(names.map((name) => sup.enable(name)));
    expect(sup.list().map((p) => p.state)).toEqual(names.map(() => 'running'));
    await expect((await sup.get('volumes-19', 'VolumeDriver')).call('VolumeDriver.List', {})).resolves.toEqual({ Volumes: [] });

    // The wrappers: this process's children whose command line or environment names the store.
    const ours = new Set(marked(sup.root));
    const byThread = childrenByThread();
    const forkedBy = (tid: number) => (byThread.get(tid) ?? []).filter((pid) => ours.has(pid));
    const wrappers = [...byThread.keys()].flatMap(forkedBy);
    expect(wrappers).toHaveLength(20);
    expect(forkedBy(process.pid)).toEqual([]); // the main thread's tid is the pid
  }, 60_000);
});
