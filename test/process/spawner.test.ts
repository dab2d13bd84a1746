// The spawner thread on its own: process instances started through it, with a real log socket,
// real wrappers and real plugins. It forks off the main thread, and when it dies the plugins it
// started die with it (the kernel's parent-death signal) and are reported as crashed.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ProcessInstance, type ProcessInstanceOptions } from '../../src/isolation/process-instance.js';
import { Spawner } from '../../src/isolation/spawner.js';
import { SLOT_COUNT } from '../../src/isolation/wire-constants.mjs';
import { TaskPool } from '../../src/tasks/task-pool.js';
import type { SpawnEvent } from '../../src/isolation/spawner-protocol.js';
import { bundle, onCleanup, tempDir } from '../helpers.js';
import { killAll, marked, statFields } from './proc-scan.js';

/** A log socket that takes whatever the wrappers send (the log pump's place). */
async function logSocket(dir: string): Promise<string> {
  const socketPath = path.join(dir, 'log.sock');
  const open = new Set<net.Socket>();
  const server = net.createServer((s) => {
    open.add(s);
    s.resume();
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  onCleanup(async () => {
    for (const s of open) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return socketPath;
}

async function setup() {
  const dir = await tempDir();
  const marker = `plugd-spawned-${randomBytes(4).toString('hex')}`;
  onCleanup(() => killAll(marked(marker)));
  const spawner = new Spawner();
  onCleanup(() => spawner.close());
  const tasks = new TaskPool();
  onCleanup(() => tasks.close());
  const log = await logSocket(dir);
  let instance = 0;
  /** A plugin that runs until signalled (it never opens its socket: no handshake here). */
  const start = (overrides: Partial<ProcessInstanceOptions> = {}) =>
    ProcessInstance.start({
      name: 'p',
      id: 'p-id',
      instance: ++instance,
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)', marker],
      cwd: dir,
      env: {},
      socketPath: path.join(dir, `p${instance}.sock`),
      logSocket: log,
      slots: new SharedArrayBuffer(SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT),
      graceMs: 2_000,
      nice: 0,
      activationTimeoutMs: 10_000,
      watchdogMs: 1_000,
      tasks,
      stderrTail: async () => [],
      spawner,
      ...overrides,
    });
  return { dir, spawner, start, marker };
}

/** The plugin's pid, once its wrapper has reported it. */
async function pluginPid(instance: ProcessInstance): Promise<number> {
  await expect.poll(() => instance.pid, { timeout: 10_000 }).not.toBeNull();
  return instance.pid!;
}

/** The thread (tid) of this process that forked `pid`, from /proc/self/task/<tid>/children. */
function forkingThread(pid: number): number | null {
  for (const tid of readdirSync('/proc/self/task')) {
    const children = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    if (children.includes(pid)) return Number(tid);
  }
  return null;
}

describe('the spawner thread', () => {
  it("forks the wrapper on a thread of its own, not the host's main thread; the wrapper's parent is still the host's pid", async () => {
    const { start } = await setup();
    const instance = await start();
    const wrapper = Number(statFields(await pluginPid(instance))[1]);
    expect(Number(statFields(wrapper)[1])).toBe(process.pid); // what the wrapper checks before it starts anything
    const thread = forkingThread(wrapper);
    expect(thread).not.toBeNull();
    expect(thread).not.toBe(process.pid); // the main thread's tid is the pid
    await instance.stop(2_000);
    expect((await instance.exited).reason).toBe('stopped');
  });

  it('that dies takes its plugins down (wrappers signalled), reports each as crashed; a new thread serves the next start', async () => {
    const { spawner, start, marker } = await setup();
    const instances = [await start(), await start()];
    const pids = await Promise.all(instances.map(pluginPid));
    expect(marked(marker)).toEqual(expect.arrayContaining(pids)); // and their wrappers, whose command lines hold the marker too
    const first = spawner.threadId;

    await spawner.crash();
    for (const instance of instances) {
      const exit = await instance.exited;
      expect(exit.reason).toBe('crash');
      expect(exit.error?.code).toBe('PLUGD_E_PLUGIN_EXITED');
    }
    await expect.poll(() => marked(marker), { timeout: 10_000 }).toEqual([]);

    const next = await start();
    const pid = await pluginPid(next);
    expect(marked(marker)).toContain(pid);
    expect(spawner.threadId).not.toBeNull();
    expect(spawner.threadId).not.toBe(first);
    await next.stop(2_000);
    expect((await next.exited).reason).toBe('stopped');
  });

  it('ends on close() only once every wrapper it started has exited', async () => {
    const { spawner, start, marker } = await setup();
    const instance = await start();
    await pluginPid(instance);
    instance.kill('stopped'); // ended for its owner at once; its wrapper is still taking the group down
    await spawner.close();
    expect(spawner.threadId).toBeNull();
    expect(marked(marker)).toEqual([]);
  });

  it.runIf(existsSync('/usr/bin/setpriv') || existsSync('/bin/setpriv'))(
    'rejects a start whose log socket cannot be reached (the lean wrapper connects it first), and starts nothing',
    async () => {
      const { dir, start, marker } = await setup();
      await expect(start({ logSocket: path.join(dir, 'no-pump.sock') })).rejects.toMatchObject({ code: 'ENOENT' });
      expect(marked(marker)).toEqual([]);
    },
  );

  it('runs the Node wrapper where the lean one cannot run: spawned, the pid checked, the exit reported', async () => {
    const { dir, spawner, marker } = await setup();
    const events: SpawnEvent[] = [];
    const exited = new Promise<SpawnEvent>((resolve) =>
      spawner.spawn(
        {
          lean: null,
          nodeWrapper: fileURLToPath(new URL('../../src/isolation/entry/process-wrapper.mjs', import.meta.url)),
          command: process.execPath,
          args: ['-e', 'setInterval(() => {}, 1000)', marker],
          cwd: dir,
          env: {},
          socketPath: path.join(dir, 'n.sock'),
          logSocket: path.join(dir, 'log.sock'),
          id: 'n-id',
          name: 'n',
          instance: 1,
          graceMs: 1_000,
          nice: 0,
        },
        (event) => {
          events.push(event);
          if (event.type === 'exit') resolve(event);
        },
      ),
    );
    await expect.poll(() => events.map((e) => e.type), { timeout: 10_000 }).toEqual(['spawned', 'pid']);
    const [spawned, reported] = events as [{ type: 'spawned'; pid: number }, { type: 'pid'; pid: number }];
    expect(Number(statFields(reported.pid)[1])).toBe(spawned.pid);
    process.kill(spawned.pid, 'SIGTERM');
    expect(await exited).toMatchObject({ type: 'exit' });
    await expect.poll(() => marked(marker), { timeout: 10_000 }).toEqual([]);
  });

  it('keeps the host alive while it starts a wrapper: a host whose only work is `await sup.enable()` gets past it', async () => {
    const index = new URL('../../src/index.js', import.meta.url).href;
    const pino = pathToFileURL(createRequire(import.meta.url).resolve('pino')).href;
    const host = path.join(await tempDir(), 'host.mjs');
    await writeFile(
      host,
      `
      import { pino } from ${JSON.stringify(pino)};
      import { createSupervisor } from ${JSON.stringify(index)};
      const [root, dir] = process.argv.slice(-2);
      const sup = await createSupervisor({ root, logger: pino({ level: 'silent' }), restore: false });
      const { name } = await sup.install(dir);
      await sup.enable(name);
      process.stdout.write(sup.inspect(name).state);
      await sup.close();
    `,
    );
    const plugin = await bundle('proc-family');
    for (let run = 0; run < 3; run++) {
      const root = path.join(await tempDir(), 'store');
      const child = spawn(process.execPath, ['--import', 'tsx', host, root, plugin], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      onCleanup(() => child.kill('SIGKILL'));
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect({ run, out, code }).toEqual({ run, out: 'running', code: 0 }); // 13: the loop emptied with the enable unsettled
    }
  }, 60_000);
});
