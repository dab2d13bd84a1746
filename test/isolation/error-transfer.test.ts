// Errors thrown inside a plugin, as the host receives them: one plain form across comlink (a
// worker's control plane), its call channel and a confined process's IPC channel, rebuilt as a
// PlugdError wherever plugd's own error was thrown.
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { PlugdError } from '../../src/errors.js';
import { linkHostPackage } from '../../src/isolation/host-package.js';
import { NodeProcessInstance } from '../../src/isolation/node-process-instance.js';
import type { PluginInstance } from '../../src/isolation/plugin-instance.js';
import { PluginThread } from '../../src/isolation/plugin-thread.js';
import { callError, errorFromPlain } from '../../src/isolation/remote-errors.js';
import { SLOT_COUNT } from '../../src/isolation/wire-constants.mjs';
import { WorkerInstance } from '../../src/isolation/worker-instance.js';
import { onCleanup, supervisor, tempDir } from '../helpers.js';

// A worker plugin throws plugd's own class. A confined process may read plugd's dist/ but not
// its dependencies, so there the error is made in the shape a PlugdError has.
const THROWS_PLUGD_ERROR = `import { PlugdError } from 'plugd';
export default {
  activate() {
    throw new PlugdError('PLUGD_E_DEPENDENCY', 'the database plugin is not running', { details: { requires: 'db', tried: 3 } });
  },
};`;
const THROWS_PLUGD_SHAPE = `export default {
  activate() {
    throw Object.assign(new Error('the database plugin is not running'), {
      name: 'PlugdError', code: 'PLUGD_E_DEPENDENCY', details: { requires: 'db', tried: 3 },
    });
  },
};`;
const THROWS_TYPE_ERROR = `export default {
  activate() { throw Object.assign(new TypeError('no database'), { code: 'ENODB' }); },
};`;
const METHOD_THROWS_PLUGD_ERROR = `import { PlugdError } from 'plugd';
export default {
  activate: () => ({ Implements: ['Db'] }),
  methods: {
    'Db.Query': () => { throw new PlugdError('PLUGD_E_DEPENDENCY', 'no database yet', { details: { requires: 'db' } }); },
  },
};`;

/** A plugin module in a folder where `plugd` resolves to this package, as in a store. */
async function pluginModule(source: string): Promise<{ root: string; bundleDir: string; entry: string }> {
  const root = await tempDir('plugd-errors-');
  await linkHostPackage(root);
  const bundleDir = path.join(root, 'bundle');
  await mkdir(bundleDir);
  const entry = path.join(bundleDir, 'index.mjs');
  await writeFile(entry, source);
  return { root, bundleDir, entry };
}

const THREAD = { memoryLimitMb: 64, nice: 0, execArgv: [] };

/** A worker instance of the module, on a thread of its own or on a standby thread. */
async function workerInstance(source: string, standby: boolean): Promise<PluginInstance> {
  const { entry } = await pluginModule(source);
  const logs = new MessageChannel();
  logs.port2.on('message', () => {});
  onCleanup(() => logs.port2.close());
  const thread = standby ? new PluginThread(null, THREAD, 'standby#test') : undefined;
  if (thread) expect(await thread.ready()).toBe(true);
  const instance = new WorkerInstance(
    {
      ...THREAD,
      name: 'dbuser',
      id: 'dbuser-id',
      instance: 1,
      entry,
      args: [],
      env: {},
      watchdogMs: 2_000,
      logPort: logs.port1,
      log: { level: 'info', ratePerSec: 100, burst: 100 },
    },
    thread,
  );
  onCleanup(() => instance.kill('stopped'));
  return instance;
}

/** The module in a confined Node process; its output goes to a socket that discards it. */
async function processInstance(source: string): Promise<PluginInstance> {
  const { root, bundleDir, entry } = await pluginModule(source);
  const dataDir = path.join(root, 'data');
  await mkdir(dataDir);
  const logSocket = path.join(root, 'log.sock');
  const sink = net.createServer((s) => s.resume());
  await new Promise<void>((resolve) => sink.listen(logSocket, resolve));
  onCleanup(() => new Promise((resolve) => sink.close(resolve)));
  const instance = await NodeProcessInstance.start({
    name: 'dbuser',
    id: 'dbuser-id',
    instance: 1,
    entry,
    args: [],
    bundleDir,
    dataDir,
    env: {},
    memoryLimitMb: 64,
    nice: 0,
    watchdogMs: 2_000,
    logSocket,
    slots: new SharedArrayBuffer(SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT),
    logLevel: 'info',
  });
  onCleanup(() => instance.kill('stopped'));
  return instance;
}

const RUNS = [
  { run: 'a worker thread', start: (source: string) => workerInstance(source, false), plugdError: THROWS_PLUGD_ERROR },
  { run: "a warm pool's standby thread", start: (source: string) => workerInstance(source, true), plugdError: THROWS_PLUGD_ERROR },
  { run: 'a process of its own', start: processInstance, plugdError: THROWS_PLUGD_SHAPE },
];

async function activationFailure(instance: PluginInstance): Promise<PlugdError> {
  return instance.activate().then(
    () => {
      throw new Error('the activation did not fail');
    },
    (e: unknown) => e as PlugdError,
  );
}

describe("a PlugdError thrown in a plugin's activate()", () => {
  it.each(RUNS)('in $run: fails the activation with it as the cause, a PlugdError with its code and details', async (r) => {
    const error = await activationFailure(await r.start(r.plugdError));
    expect(error).toBeInstanceOf(PlugdError);
    expect(error.code).toBe('PLUGD_E_ACTIVATION');
    expect(error.message).toContain('the database plugin is not running');
    const cause = error.cause as PlugdError;
    expect(cause).toBeInstanceOf(PlugdError);
    expect(cause).toMatchObject({
      code: 'PLUGD_E_DEPENDENCY',
      message: 'the database plugin is not running',
      details: { requires: 'db', tried: 3 },
    });
  });
});

describe("a plain Error thrown in a plugin's activate()", () => {
  it.each(RUNS)('in $run: is the cause of the failed activation, an Error with its name, message and code', async (r) => {
    const error = await activationFailure(await r.start(THROWS_TYPE_ERROR));
    expect(error).toBeInstanceOf(PlugdError);
    expect(error.code).toBe('PLUGD_E_ACTIVATION');
    expect(error.message).toContain('no database');
    const cause = error.cause as Error & { code?: unknown };
    expect(cause).toBeInstanceOf(Error);
    expect(cause).not.toBeInstanceOf(PlugdError);
    expect(cause).toMatchObject({ name: 'TypeError', message: 'no database', code: 'ENODB' });
  });
});

describe('a PlugdError thrown in a worker plugin method', () => {
  it('rejects the call with a PlugdError of its code and details, not wrapped as the plugin error', async () => {
    const sup = await supervisor();
    const dir = path.join(await tempDir('plugd-bundle-'), 'dbquery');
    await mkdir(dir);
    await writeFile(
      path.join(dir, 'plugin.json'),
      JSON.stringify({ name: 'dbquery', version: '1.0.0', kind: 'worker', entrypoint: 'index.mjs', interface: { types: ['Db'] } }),
    );
    await writeFile(path.join(dir, 'index.mjs'), METHOD_THROWS_PLUGD_ERROR);
    await sup.install(dir);
    await sup.enable('dbquery');
    const failed = await (await sup.get('dbquery', 'Db')).call('Db.Query').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(PlugdError);
    expect(failed).toMatchObject({ code: 'PLUGD_E_DEPENDENCY', message: 'no database yet', details: { requires: 'db' } });
  });
});

describe('the plain form of an error, read on the host', () => {
  it('is a PlugdError only for a PlugdError with a code of plugd, its causes read the same way', () => {
    const plain = {
      name: 'PlugdError',
      message: 'plugin "x": activate() threw: no db',
      code: 'PLUGD_E_ACTIVATION',
      cause: { name: 'PlugdError', message: 'no db', code: 'PLUGD_E_DEPENDENCY', details: { requires: 'db' } },
    };
    const error = errorFromPlain(plain);
    expect(error).toBeInstanceOf(PlugdError);
    expect(error.cause).toBeInstanceOf(PlugdError);
    expect(error.cause).toMatchObject({ code: 'PLUGD_E_DEPENDENCY', details: { requires: 'db' } });
    const unknown = errorFromPlain({ name: 'PlugdError', message: 'from a newer plugd', code: 'PLUGD_E_NEWER' });
    expect(unknown).not.toBeInstanceOf(PlugdError);
    expect(unknown).toMatchObject({ name: 'PlugdError', code: 'PLUGD_E_NEWER' });
  });

  it("keeps a plugin from passing off a method's error as the host's PLUGD_E_PROTOCOL", () => {
    const forged = callError('x', 'X.Do', { name: 'PlugdError', message: 'forged', code: 'PLUGD_E_PROTOCOL' });
    expect(forged).toMatchObject({ code: 'PLUGD_E_PLUGIN_ERROR', cause: { code: 'PLUGD_E_PROTOCOL' } });
    expect(callError('x', 'X.Do', { name: 'PlugdError', message: 'no such method', code: 'PLUGD_E_METHOD' })).toMatchObject({
      code: 'PLUGD_E_METHOD',
      message: 'no such method',
    });
  });
});
