// Manifest fuzzing: thousands of mutated plugin.json files from a seeded generator. Each one
// installs, or is refused with PLUGD_E_MANIFEST: never another code, never a crash or a hang,
// and a refusal leaves the store as it was.
import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isPlugdError, type Supervisor } from '../../../src/index.js';
import { bundle, onCleanup, supervisor, tempDir } from '../../helpers.js';
import { figure, SEED, SIZES } from './campaign.js';
import { mutatedManifest, PROCESS_BASE, WORKER_BASE } from './manifest-mutator.js';
import { Prng } from './prng.js';

const CASE_BOUND_MS = 10_000;

/** The store's files and their sizes and contents' length: equal before and after a refusal. */
async function snapshot(root: string): Promise<string> {
  const lines: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        lines.push(`${path.relative(root, full)}/`);
        await walk(full);
      } else lines.push(`${path.relative(root, full)} ${(await stat(full)).size}`);
    }
  }
  await walk(root);
  const index = await readFile(path.join(root, 'plugins.json'), 'utf8').catch(() => '(none)');
  return `${lines.join('\n')}\n${index}`;
}

interface Outcome {
  installed: number;
  refused: number;
  codes: Record<string, number>;
  wrong: string[];
  hung: string[];
  touched: string[];
  /** After the fuzzing, the same supervisor still installs, runs and removes a plugin. */
  stillWorks: string;
}

async function within<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function stillWorks(sup: Supervisor): Promise<string> {
  const work = (async () => {
    const { name } = await sup.install(await bundle('greeter', { name: 'after-the-fuzz' }));
    await sup.enable(name);
    await (await sup.get(name, 'Greeter')).call('Greeter.Hello', { name: 'x' });
    await sup.remove(name, { force: true });
    return 'yes';
  })().catch((e: unknown) => `no: ${String(e)}`);
  const outcome = await within(work, 20_000);
  return outcome === 'timeout' ? 'no: it hung' : outcome;
}

async function fuzz(sup: Supervisor, cases: number): Promise<Outcome> {
  const random = new Prng(SEED);
  const folders = { worker: await bundle('greeter'), process: await bundle('proc-family') };
  const outcome: Outcome = { installed: 0, refused: 0, codes: {}, wrong: [], hung: [], touched: [], stillWorks: '' };
  let expected = await snapshot(sup.root);
  for (let n = 0; n < cases; n++) {
    const kind = random.chance(0.7) ? 'worker' : 'process';
    const text = mutatedManifest(random, kind === 'worker' ? WORKER_BASE : PROCESS_BASE);
    await writeFile(path.join(folders[kind], 'plugin.json'), text);
    const label = `case ${n} of seed ${SEED}: ${text.slice(0, 200)}`;
    const result = await within(
      sup.install(folders[kind], { grantPermissions: true }).then(
        (r) => ({ ok: true as const, name: r.name }),
        (e: unknown) => ({ ok: false as const, e }),
      ),
      CASE_BOUND_MS,
    );
    if (result === 'timeout') {
      outcome.hung.push(label);
      break;
    }
    if (result.ok) {
      outcome.installed++;
      outcome.codes.installed = (outcome.codes.installed ?? 0) + 1;
      const removed = await within(sup.remove(result.name, { force: true }), CASE_BOUND_MS);
      if (removed === 'timeout') {
        outcome.hung.push(`remove after ${label}`);
        break;
      }
      expected = await snapshot(sup.root);
      continue;
    }
    const code = isPlugdError(result.e) ? result.e.code : `not a PlugdError: ${String(result.e)}`;
    outcome.codes[code] = (outcome.codes[code] ?? 0) + 1;
    if (code !== 'PLUGD_E_MANIFEST') {
      outcome.wrong.push(`${code}, ${label}`);
      continue;
    }
    outcome.refused++;
    if ((await snapshot(sup.root)) !== expected) {
      outcome.touched.push(label);
      expected = await snapshot(sup.root);
    }
  }
  outcome.stillWorks = await stillWorks(sup);
  return outcome;
}

describe(`${SIZES.manifests} mutated manifests (seed ${SEED}; replay with PLUGD_CAMPAIGN_SEED=${SEED})`, () => {
  let outcome: Outcome;
  beforeAll(
    async () => {
      const sup = await supervisor();
      outcome = await fuzz(sup, SIZES.manifests);
      figure('manifests', {
        cases: SIZES.manifests,
        ...outcome,
        wrong: outcome.wrong.length,
        hung: outcome.hung.length,
        hungSample: outcome.hung.slice(0, 3),
        touched: outcome.touched.length,
        wrongSample: outcome.wrong.slice(0, 3),
      });
    },
    SIZES.manifests * 60 + 60_000,
  );

  it('either installs each one or refuses it with PLUGD_E_MANIFEST, never another code', () => {
    expect(outcome.wrong).toEqual([]);
    expect(outcome.installed + outcome.refused).toBe(SIZES.manifests);
  });

  it('leaves the supervisor working: it still installs, runs and removes a plugin', () => {
    expect(outcome.stillWorks).toBe('yes');
  });

  it('never hangs on one', () => {
    expect(outcome.hung).toEqual([]);
  });

  it('leaves the store untouched by a refusal', () => {
    expect(outcome.touched).toEqual([]);
  });

  it('exercises both outcomes (the generator is neither too tame nor too wild)', () => {
    expect(outcome.installed).toBeGreaterThan(SIZES.manifests / 20);
    expect(outcome.refused).toBeGreaterThan(SIZES.manifests / 4);
  });
});

describe('a plugin whose name is also a property of every object (found by the fuzzing)', () => {
  const HOST = fileURLToPath(new URL('../../fixtures/campaign-name-host.ts', import.meta.url));

  const HOSTS: [string, Record<string, unknown>, string[]][] = [
    ['"constructor" as a name installs, runs and is removed like any other name', { name: 'constructor' }, []],
    [
      '"constructor" in requires installs and is removed like any other',
      { name: 'needs-ctor', requires: ['constructor'] },
      ['install-only'],
    ],
  ];
  for (const [title, overrides, mode] of HOSTS) {
    it(`${title}, and the host lives on`, async () => {
      const root = `${await tempDir()}/store`;
      const host = spawn(process.execPath, ['--import', 'tsx', HOST, root, await bundle('greeter', overrides), ...mode], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      onCleanup(() => host.kill('SIGKILL'));
      let out = '';
      let err = '';
      host.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
      });
      host.stderr.setEncoding('utf8').on('data', (c: string) => {
        err += c;
      });
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => host.kill('SIGKILL'), 30_000);
        host.once('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect({ code, out: out.trim() }, err.slice(-800)).toEqual({ code: 0, out: 'ok' });
    }, 60_000);
  }
});
