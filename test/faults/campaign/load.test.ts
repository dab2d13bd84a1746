// Load with crashing plugins: many plugins, thousands of calls, some plugins crashing under
// them. Every call settles, resolved or rejected with a stable code, and nothing is left as an
// unhandled rejection. A plugin thread that sends a malformed message ends itself, not the host.
import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isPlugdError, type PluginClient } from '../../../src/index.js';
import { bundle, onCleanup, supervisor, tempDir } from '../../helpers.js';
import { figure, SEED, SIZES } from './campaign.js';
import { Prng } from './prng.js';
import { killMarked } from './store-check.js';

const SETTLE_BOUND_MS = 20_000;
const IN_FLIGHT = 64;

interface LoadOutcome {
  calls: number;
  resolved: number;
  rejected: Record<string, number>;
  unsettled: number;
  unstable: string[];
  unhandled: string[];
  crashes: number;
}

describe(`${SIZES.loadPlugins} plugins under ${SIZES.loadCalls} calls, ${SIZES.loadCrashing} of them crashing (seed ${SEED})`, () => {
  let outcome: LoadOutcome;
  const unhandled: string[] = [];
  const onUnhandled = (reason: unknown) => {
    unhandled.push(String(reason));
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    const random = new Prng(SEED);
    const sup = await supervisor({ callTimeoutMs: 5_000, memoryLimitMb: 32, restart: { backoff: { initialMs: 20, maxMs: 500 } } });
    const greeter = await bundle('greeter');
    const crasher = await bundle('crasher', { restart: 'always' });
    const steady = SIZES.loadPlugins - SIZES.loadCrashing;
    // One bundle per plugin name: the name is part of the manifest, the files are shared.
    const folders = await tempDir('plugd-load-');
    const install = async (source: string, name: string) => {
      const dir = path.join(folders, name);
      await mkdir(dir);
      await cp(source, dir, { recursive: true });
      const manifest = JSON.parse(await readFile(path.join(source, 'plugin.json'), 'utf8'));
      await writeFile(path.join(dir, 'plugin.json'), JSON.stringify({ ...manifest, name }));
      await sup.install(dir);
    };
    for (let i = 0; i < steady; i++) await install(greeter, `steady-${i}`);
    for (let i = 0; i < SIZES.loadCrashing; i++) await install(crasher, `crashy-${i}`);
    await Promise.all(sup.list().map((p) => sup.enable(p.name)));

    const clients: { client: PluginClient; crashy: boolean }[] = [];
    for (let i = 0; i < steady; i++) clients.push({ client: await sup.get(`steady-${i}`, 'Greeter'), crashy: false });
    for (let i = 0; i < SIZES.loadCrashing; i++) clients.push({ client: await sup.get(`crashy-${i}`, 'Crash'), crashy: true });

    outcome = { calls: 0, resolved: 0, rejected: {}, unsettled: 0, unstable: [], unhandled, crashes: 0 };
    const one = async (): Promise<void> => {
      const { client, crashy } = random.chance(0.3) ? clients[steady + random.int(SIZES.loadCrashing)]! : random.pick(clients);
      let call: Promise<unknown>;
      if (crashy) {
        const r = random.next();
        if (r < 0.1) {
          outcome.crashes++;
          call = client.call('Crash.Throw', {});
        } else if (r < 0.2) {
          outcome.crashes++;
          call = client.call('Crash.Exit', { code: 1 + random.int(3) });
        } else call = client.call('Crash.Ok', {});
      } else {
        const r = random.next();
        call =
          r < 0.1
            ? client.call('Greeter.Fail', { message: 'on purpose' })
            : r < 0.15
              ? client.call('Greeter.Slow', { ms: random.int(50) })
              : client.call('Greeter.Hello', { name: 'load' });
      }
      outcome.calls++;
      let timer: NodeJS.Timeout | undefined;
      const settled = await Promise.race([
        call.then(
          () => 'resolved',
          (e: unknown) => (isPlugdError(e) && e.code in ErrorCodes ? e.code : `unstable: ${String(e)}`),
        ),
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve('unsettled'), SETTLE_BOUND_MS);
        }),
      ]);
      clearTimeout(timer);
      if (settled === 'resolved') outcome.resolved++;
      else if (settled === 'unsettled') outcome.unsettled++;
      else if (settled.startsWith('unstable')) outcome.unstable.push(settled);
      else outcome.rejected[settled] = (outcome.rejected[settled] ?? 0) + 1;
    };
    let started = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (started < SIZES.loadCalls) {
          started++;
          await one();
        }
      }),
    );
    // A last turn for rejections that nobody handled to surface.
    await new Promise((resolve) => setImmediate(resolve));
    figure('load', {
      plugins: SIZES.loadPlugins,
      crashing: SIZES.loadCrashing,
      ...outcome,
      unstable: outcome.unstable.length,
      unhandled: unhandled.length,
    });
  }, 600_000);

  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('settles every call: resolved, or rejected with a code from ErrorCodes', () => {
    expect(outcome.unsettled).toBe(0);
    expect(outcome.unstable).toEqual([]);
    expect(outcome.resolved + Object.values(outcome.rejected).reduce((a, b) => a + b, 0)).toBe(SIZES.loadCalls);
  });

  it('leaves no unhandled rejection', () => {
    expect(outcome.unhandled).toEqual([]);
  });

  it('really crashed plugins under the calls, and the steady ones kept answering', () => {
    expect(outcome.crashes).toBeGreaterThan(0);
    expect(outcome.rejected.PLUGD_E_PLUGIN_ERROR ?? 0).toBeGreaterThan(0);
    expect(outcome.resolved).toBeGreaterThan(SIZES.loadCalls / 2);
  });
});

describe('a plugin thread that answers with a malformed message', () => {
  const HOST = fileURLToPath(new URL('../../fixtures/campaign-malformed-host.ts', import.meta.url));

  it('ends that instance with PLUGD_E_PROTOCOL, and the host lives on', async () => {
    const dir = path.join(await tempDir('plugd-malformed-'), 'bad');
    await mkdir(dir);
    await writeFile(
      path.join(dir, 'plugin.json'),
      JSON.stringify({
        name: 'bad',
        version: '1.0.0',
        kind: 'worker',
        entrypoint: 'index.mjs',
        interface: { types: ['Bad'] },
        restart: 'no',
      }),
    );
    // Every message this thread posts from now on is a number, where the host expects a reply tuple.
    await writeFile(
      path.join(dir, 'index.mjs'),
      [
        "import { MessagePort } from 'node:worker_threads';",
        'export default { activate: () => ({ Implements: ["Bad"] }), methods: { "Bad.Reply": () => {',
        '  const post = MessagePort.prototype.postMessage;',
        '  MessagePort.prototype.postMessage = function (message, ...rest) {',
        '    return post.call(this, Array.isArray(message) ? 42 : message, ...rest);',
        '  };',
        '  return "sent";',
        '} } };',
      ].join('\n'),
    );
    const root = path.join(await tempDir(), 'store');
    const host = spawn(process.execPath, ['--import', 'tsx', HOST, root, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanup(() => {
      host.kill('SIGKILL');
      return killMarked(root);
    });
    let out = '';
    let err = '';
    host.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    host.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => host.kill('SIGKILL'), SETTLE_BOUND_MS);
      host.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect({ code, out: out.trim() === '' ? 'nothing: the host died' : 'a report' }, err.slice(-600)).toEqual({ code: 0, out: 'a report' });
    const report = JSON.parse(out) as { call: string; to: string; lastError: string | null };
    expect(report.call).toMatch(/^PLUGD_E_/);
    expect(report.lastError).toBe('PLUGD_E_PROTOCOL');
  }, 60_000);
});
