// SIGKILLs of a real host at random moments of random walks over a store, each followed by a
// reopen that must find the store whole: index, records and bundles agree, plugins enabled before
// the kill are restored, no debris, no orphan process, and the open returns.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSupervisor } from '../../../src/index.js';
import { bundle, onCleanup, silent, supervisor, tempDir } from '../../helpers.js';
import { figure, SEED, SIZES } from './campaign.js';
import { Prng } from './prng.js';
import { untilNoneMarked } from '../../process/proc-scan.js';
import { debris, killMarked, storeDisagreements } from './store-check.js';

const HOST = fileURLToPath(new URL('../../fixtures/campaign-host.ts', import.meta.url));
const OPEN_BOUND_MS = 30_000;
const ORPHAN_BOUND_MS = 10_000;
/** States a restored plugin may be found in: running, or failed in a way the host can see. */
const RESTORED = new Set(['running', 'restarting', 'disabled']);

interface Tally {
  kills: number;
  reopens: number;
  hungOpens: number;
  orphans: number[];
  debris: string[];
  lost: string[];
  notRestored: string[];
  disagreements: string[];
  steps: number;
  stalls: string[];
}

/** Hosts alive now: killed after the file even if a campaign's beforeAll failed or timed out. */
const hosts = new Set<ChildProcess>();
afterAll(() => {
  for (const host of hosts) host.kill('SIGKILL');
});

/** Resolves with `work`'s value, or with 'timeout' after `ms`. */
async function within<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `rounds` host lives on one store. Each host walks at random; it is killed `delay` ms
 * after the step chosen by `killAt` begins (or during its opening when killAt gives 0).
 */
async function campaign(
  rounds: number,
  names: string | undefined,
  killAt: (random: Prng, line: string, seen: number) => boolean,
): Promise<Tally> {
  const random = new Prng(SEED);
  const root = path.join(await tempDir('plugd-campaign-'), 'store');
  await mkdir(root, { recursive: true });
  const work = await tempDir('plugd-campaign-work-');
  const [workerSource, processSource] = [await bundle('greeter'), await bundle('proc-family')];
  onCleanup(() => killMarked(root));
  const tally: Tally = {
    kills: 0,
    reopens: 0,
    hungOpens: 0,
    orphans: [],
    debris: [],
    lost: [],
    notRestored: [],
    disagreements: [],
    steps: 0,
    stalls: [],
  };
  let installed = new Set<string>();
  let enabled = new Set<string>();

  for (let round = 0; round < rounds; round++) {
    const args = ['--import', 'tsx', HOST, root, work, String(SEED + round), workerSource, processSource, ...(names ? [names] : [])];
    const host = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    hosts.add(host);
    host.once('exit', () => hosts.delete(host));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => host.once('exit', (_code, signal) => resolve(signal)));
    let seen = 0;
    let armed = false;
    let buffered = '';
    host.stdout.setEncoding('utf8');
    host.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (process.env.PLUGD_CAMPAIGN_TRACE) process.stderr.write(`[round ${round}] ${line}\n`);
        const [what, op, name] = line.split(' ');
        if (what === 'begin') {
          tally.steps++;
          seen++;
          // What is in doubt once a step begins is no longer counted as kept.
          if (op === 'remove' || op === 'upgrade') installed.delete(name!);
          if (op === 'remove' || op === 'upgrade' || op === 'disable') enabled.delete(name!);
        }
        if (what === 'stall') {
          // A step that never ends is a finding of its own; the host is killed to go on.
          tally.stalls.push(`round ${round}: ${line}`);
          host.kill('SIGKILL');
          armed = true;
        }
        if (what === 'end' && op === 'install') installed.add(name!);
        if (what === 'end' && op === 'enable') enabled.add(name!);
        if (what === 'end' && op === 'upgrade') installed.add(name!);
        if (!armed && killAt(random, line, seen)) {
          armed = true;
          setTimeout(() => host.kill('SIGKILL'), random.int(40));
        }
      }
    });
    const signal = await exited;
    if (signal !== 'SIGKILL') throw new Error(`campaign host (seed ${SEED + round}) ended by itself (${signal}); its stderr is above`);
    tally.kills++;

    const orphans = await untilNoneMarked(root, ORPHAN_BOUND_MS);
    tally.orphans.push(...orphans);
    await killMarked(root);

    const opening = createSupervisor({ root, logger: silent, stopTimeoutMs: 1_000, restore: true });
    const opened = await within(
      opening.then(async (sup) => {
        await sup.restored();
        return sup;
      }),
      OPEN_BOUND_MS,
    );
    if (process.env.PLUGD_CAMPAIGN_TRACE) process.stderr.write(`[round ${round}] reopen: ${opened === 'timeout' ? 'timeout' : 'open'}\n`);
    if (opened === 'timeout') {
      tally.hungOpens++;
      void opening.then(
        (sup) => sup.close(),
        () => undefined,
      );
      break; // the store stays locked by the hung open: the campaign cannot go on
    }
    tally.reopens++;
    const sup = opened;
    try {
      const list = sup.list();
      const present = new Set(list.map((p) => p.name));
      for (const name of installed) if (!present.has(name)) tally.lost.push(`round ${round}: ${name}`);
      for (const name of enabled) {
        const info = list.find((p) => p.name === name);
        if (!info?.enabled || !RESTORED.has(info.state) || (info.state !== 'running' && !info.lastError)) {
          tally.notRestored.push(`round ${round}: ${name} is ${info ? `${info.state}${info.enabled ? '' : ', not enabled'}` : 'gone'}`);
        }
      }
      const running = new Set(list.filter((p) => p.kind === 'process' && p.state === 'running').map((p) => p.id.slice(0, 12)));
      tally.debris.push(...(await debris(root, running)).map((d) => `round ${round}: ${d}`));
      tally.disagreements.push(...(await storeDisagreements(root)).map((d) => `round ${round}: ${d}`));
      installed = present;
      enabled = new Set(list.filter((p) => p.enabled && p.state === 'running').map((p) => p.name));
    } finally {
      await sup.close();
    }
    tally.orphans.push(...(await untilNoneMarked(root, ORPHAN_BOUND_MS)));
    await killMarked(root);
  }
  return tally;
}

function report(part: string, tally: Tally): void {
  figure(part, {
    kills: tally.kills,
    reopens: tally.reopens,
    hungOpens: tally.hungOpens,
    steps: tally.steps,
    // Debris is counted once per path, though a leftover shows up again at every later reopen.
    orphans: tally.orphans.length,
    debris: new Set(tally.debris.map((d) => d.replace(/^round \d+: /, ''))).size,
    lost: tally.lost.length,
    notRestored: tally.notRestored.length,
    disagreements: tally.disagreements.length,
    stalls: tally.stalls.length,
    stallSample: tally.stalls.slice(0, 5),
    debrisSample: tally.debris.slice(0, 5),
    notRestoredSample: tally.notRestored.slice(0, 5),
  });
}

describe(`random SIGKILLs of a host walking a store (seed ${SEED})`, () => {
  let tally: Tally;
  beforeAll(
    async () => {
      // Killed during its opening (restore), or a few ms after the Nth step begins.
      tally = await campaign(SIZES.kills, undefined, (random, line, seen) => {
        if (line === 'opening') return random.chance(0.15);
        return line.startsWith('begin') && seen >= 1 + random.int(12);
      });
      report('kills', tally);
    },
    SIZES.kills * 20_000 + 60_000,
  );

  it('reopens the store after every kill, within the bound', () => {
    expect(tally.hungOpens).toBe(0);
    expect(tally.reopens).toBe(tally.kills);
  });

  it('keeps the index, the record folders and the bundles in agreement', () => {
    expect(tally.disagreements).toEqual([]);
  });

  it('loses no plugin whose install finished', () => {
    expect(tally.lost).toEqual([]);
  });

  it('restores every plugin that was enabled before the kill (running, or failed visibly)', () => {
    expect(tally.notRestored).toEqual([]);
  });

  it('ends every step of the walks (none stalls)', () => {
    expect(tally.stalls).toEqual([]);
  });

  it('leaves no debris: temp files, unfinished installs, run folders of stopped plugins', () => {
    expect(tally.debris).toEqual([]);
  });

  it('leaves no orphan process', () => {
    expect(tally.orphans).toEqual([]);
  });
});

describe(`SIGKILLs of a host while it enables process plugins (seed ${SEED})`, () => {
  let tally: Tally;
  beforeAll(
    async () => {
      tally = await campaign(SIZES.enableKills, 'p0,p1,p2', (_random, line) => line.startsWith('begin enable'));
      report('enable-kills', tally);
    },
    SIZES.enableKills * 20_000 + 60_000,
  );

  it('leaves no orphan: no wrapper, plugin or plugin child outlives its host', () => {
    expect(tally.orphans).toEqual([]);
  });

  it('reopens every time with the store whole', () => {
    expect(tally.hungOpens).toBe(0);
    expect(tally.disagreements).toEqual([]);
    expect(tally.lost).toEqual([]);
  });
});

describe('an enable of a plugin that already runs (found by the walks)', () => {
  it('resolves at once, in the same session and after a restore', async () => {
    const first = await supervisor();
    await first.install(await bundle('greeter'));
    await first.enable('greeter');
    expect(await within(first.enable('greeter'), 5_000)).toBeUndefined();
    await first.close();
    const second = await supervisor({ root: first.root });
    expect(second.inspect('greeter').state).toBe('running');
    expect(await within(second.enable('greeter'), 5_000)).toBeUndefined();
  });
});
