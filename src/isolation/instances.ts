// Where plugin instances come from and what is known of them: for worker plugins a warm standby
// thread or a new one through the start gate, for process plugins a wrapped child process; the
// watchdog (or the health probes) once activated. Each plugin's entry holds its current instance
// and its log counters.
// It is the `InstanceHost` the instance actor of every plugin machine uses.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { InstanceActorInput } from '../../machines/plugin.machine.js';
import { PlugdError } from '../errors.js';
import type { InstanceHost } from './instance-actor.js';
import { Semaphore } from './semaphore.js';
import { WarmPool } from './warm-pool.js';
import { Watchdog } from './watchdog.js';
import { ExternalInstance } from './external-instance.js';
import { HealthProbes } from './health-probes.js';
import type { PluginInstance, ProbedInstance } from './plugin-instance.js';
import type { PluginThread } from './plugin-thread.js';
import { NodeProcessInstance } from './node-process-instance.js';
import { ProcessInstance } from './process-instance.js';
import { Spawner } from './spawner.js';
import { linkHostPackage } from './host-package.js';
import { SLOT_COUNT } from './wire-constants.mjs';
import { WorkerInstance } from './worker-instance.js';
import type { LogPump } from '../logs/log-pump.js';
import type { ResolvedOptions } from '../options.js';
import { pluginEnv } from './plugin-env.js';
import type { PluginEntries } from '../runtime/plugin-entries.js';
import type { PluginEntry } from '../runtime/plugin-entry.js';
import type { PluginRecord, Store } from '../store/store.js';
import type { TaskPool } from '../tasks/task-pool.js';
import type { ContainerManifest, ProcessManifest, WorkerManifest } from '../store/manifest.js';
import { DockerPublisher } from '../docker/publish.js';
import { ContainerRuntime } from '../docker/container-runtime.js';

/** The stderr lines a process plugin's unexpected exit shows in its error (systemd's status shows 10). */
const STDERR_TAIL_LINES = 10;
/** Linux's limit on a UNIX socket path (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;
/** plugd's SDK module, also given to process plugins as $PLUGD_SDK (plugins written before 'plugd/sdk' resolved from the store use it). */
const SDK_URL = new URL('../sdk/serve-plugin.mjs', import.meta.url).href;

export class Instances implements InstanceHost {
  readonly stopTimeoutMs: number;
  readonly #options: ResolvedOptions;
  readonly #store: Store;
  readonly #pump: LogPump;
  readonly #log: Logger;
  readonly #watchdog: Watchdog;
  readonly #probes: HealthProbes;
  readonly #tasks: TaskPool;
  readonly #starts: Semaphore;
  readonly #warm: WarmPool | null;
  readonly #entries: PluginEntries;
  /** Every instance started and not ended, for close(). */
  readonly #live = new Set<PluginInstance>();
  readonly #publisher: DockerPublisher;
  readonly #containers: ContainerRuntime;
  /** Links still to remove; close() waits for them. */
  readonly #unpublishing = new Set<Promise<void>>();
  /** Instances started and neither activated nor ended: the warm pool refills when there are none. */
  readonly #activating = new Set<PluginInstance>();
  /** Starts the wrappers of process plugins off the main thread; its thread starts with the first one. */
  readonly #spawner = new Spawner();
  /** `<root>/node_modules/plugd`, made as the first plugin starts (host-package.ts). */
  #hostPackage: Promise<string | null> | null = null;

  constructor(options: ResolvedOptions, store: Store, entries: PluginEntries, pump: LogPump, tasks: TaskPool, log: Logger) {
    this.#entries = entries;
    this.#tasks = tasks;
    this.#probes = new HealthProbes(options.watchdogMs);
    this.#options = options;
    this.#store = store;
    this.#pump = pump;
    this.#log = log;
    this.stopTimeoutMs = options.stopTimeoutMs;
    this.#watchdog = new Watchdog(options.watchdogMs);
    this.#publisher = new DockerPublisher(options.dockerPluginsDir);
    this.#containers = new ContainerRuntime({ root: store.root, options, pump, tasks, log });
    // Containers a killed predecessor left running go now, not at the first container start.
    if (store.list().some((r) => r.manifest.kind === 'container')) void this.#containers.sweep();
    this.#starts = new Semaphore(options.maxConcurrentStarts);
    const thread = { memoryLimitMb: options.memoryLimitMb, nice: options.pluginNice, execArgv: options.pluginExecArgv };
    this.#warm = options.warmWorkers > 0 ? new WarmPool(options.warmWorkers, thread, this.#starts, () => this.#activating.size > 0) : null;
  }

  /** Starts the next instance of a plugin; waits for a start slot unless a warm thread is ready. */
  async start(input: InstanceActorInput, signal: AbortSignal): Promise<PluginInstance> {
    const entry = this.#entries.get(input.name);
    if (entry?.id !== input.id) throw new PlugdError('PLUGD_E_NOT_FOUND', `no record ${input.id} in the store`);
    const { record } = entry;
    const { manifest } = record;
    if (manifest.kind === 'external') {
      // Nothing to start: a connection to a plugin someone else runs.
      return this.#track(
        entry,
        new ExternalInstance(input.name, input.instance, manifest.address, {
          tasks: this.#tasks,
          activationTimeoutMs: this.#options.activationTimeoutMs,
          watchdogMs: this.#options.watchdogMs,
        }),
      );
    }
    await (this.#hostPackage ??= this.#linkHostPackage());
    const isolated = manifest.kind === 'worker' && manifest.isolation === 'process';
    const standby = manifest.kind === 'worker' && !isolated ? this.#warm?.take() : undefined;
    const release = standby ? null : await this.#starts.acquire('urgent', signal);
    let instance: PluginInstance;
    try {
      signal.throwIfAborted(); // aborted as the slot was handed over
      instance = isolated
        ? await this.#startIsolated(record, manifest as WorkerManifest, input)
        : manifest.kind === 'worker'
          ? this.#startWorker(record, manifest, input, standby)
          : manifest.kind === 'container'
            ? await this.#containers.start(record, manifest, input, this.#socketPath(record, manifest))
            : await this.#startProcess(record, manifest, input);
    } catch (e) {
      release?.();
      throw e;
    }
    if (release) void instance.booted.then(release);
    if (manifest.kind !== 'worker' && manifest.docker?.publish)
      await this.#publish(input.name, instance, this.#socketPath(record, manifest));
    return this.#track(entry, instance);
  }

  /** Links the socket where dockerd looks while the instance lives (`"docker": { "publish": true }`). */
  async #publish(name: string, instance: PluginInstance, socketPath: string): Promise<void> {
    try {
      await this.#publisher.publish(name, socketPath);
    } catch (e) {
      instance.kill('activation-failed', e);
      throw e;
    }
    const unpublished = instance.exited
      .then(() => this.#publisher.unpublish(name, socketPath))
      .catch((e: unknown) => {
        this.#log.warn({ plugin: name, err: e }, `cannot unpublish ${this.#publisher.linkOf(name)}`);
      });
    this.#unpublishing.add(unpublished);
    void unpublished.then(() => this.#unpublishing.delete(unpublished));
  }

  /** `<root>/run/<id prefix>/<socket>`, checked against the length a UNIX socket path allows. */
  #socketPath(record: PluginRecord, manifest: ProcessManifest | ContainerManifest): string {
    const socketPath = path.join(this.#store.runDir, record.id.slice(0, 12), manifest.interface.socket);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
      throw new PlugdError(
        'PLUGD_E_ACTIVATION',
        `the socket path ${socketPath} is longer than the ${MAX_SOCKET_PATH} bytes a UNIX socket allows; use a shorter store root`,
      );
    }
    return socketPath;
  }

  /** Resolves with the host's plugd package folder, or null when plugins cannot be given it. */
  #linkHostPackage(): Promise<string | null> {
    return linkHostPackage(this.#store.root).catch((e: unknown) => {
      this.#log.warn(
        { err: e },
        `cannot link ${path.join(this.#store.root, 'node_modules', 'plugd')} to the host's plugd; plugins that import ` +
          `'plugd' will not find it`,
      );
      return null;
    });
  }

  /** What a confined plugin may read of plugd to import 'plugd/sdk': the link, the package's manifest and build. */
  async #hostPackageReads(): Promise<string[]> {
    const target = await (this.#hostPackage ??= this.#linkHostPackage());
    if (target === null) return [];
    return [path.join(this.#store.root, 'node_modules', 'plugd'), path.join(target, 'package.json'), path.join(target, 'dist')];
  }

  #track(entry: PluginEntry, instance: PluginInstance): PluginInstance {
    entry.instance = instance;
    this.#live.add(instance);
    this.#activating.add(instance);
    void instance.exited.then(() => {
      this.#activating.delete(instance);
      this.#live.delete(instance);
      entry.addFinished(instance);
      if (entry.instance === instance) entry.instance = undefined;
    });
    return instance;
  }

  #startWorker(
    record: PluginRecord,
    manifest: WorkerManifest,
    input: InstanceActorInput,
    standby: PluginThread | undefined,
  ): WorkerInstance {
    return new WorkerInstance(
      {
        name: input.name,
        id: input.id,
        instance: input.instance,
        entry: path.join(record.bundleDir, manifest.entrypoint),
        args: manifest.args,
        env: pluginEnv(record),
        memoryLimitMb: this.#options.memoryLimitMb,
        nice: this.#options.pluginNice,
        execArgv: this.#options.pluginExecArgv,
        watchdogMs: this.#options.watchdogMs,
        logPort: this.#pump.attach(input.id),
        log: { level: this.#options.logs.level, ratePerSec: this.#options.logs.ratePerSec, burst: this.#options.logs.burst },
      },
      standby,
    );
  }

  /** A worker-contract plugin in a confined Node process: its data folder <root>/data/<id>/, its output to the pump. */
  async #startIsolated(record: PluginRecord, manifest: WorkerManifest, input: InstanceActorInput): Promise<NodeProcessInstance> {
    const dataDir = path.join(this.#store.root, 'data', record.id);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const slots = new SharedArrayBuffer(SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT);
    this.#pump.expect(input.id, input.instance, slots);
    return NodeProcessInstance.start({
      name: input.name,
      id: input.id,
      instance: input.instance,
      entry: path.join(record.bundleDir, manifest.entrypoint),
      args: manifest.args,
      env: pluginEnv(record),
      bundleDir: record.bundleDir,
      dataDir,
      memoryLimitMb: this.#options.memoryLimitMb,
      nice: this.#options.pluginNice,
      watchdogMs: this.#options.watchdogMs,
      logSocket: await this.#pump.processSocket(),
      slots,
      logLevel: this.#options.logs.level,
      readable: await this.#hostPackageReads(),
    });
  }

  /** A process plugin: its socket in <root>/run/<id prefix>/ (mode 0700), its output to the pump. */
  async #startProcess(record: PluginRecord, manifest: ProcessManifest, input: InstanceActorInput): Promise<ProcessInstance> {
    const socketPath = this.#socketPath(record, manifest);
    const runDir = path.dirname(socketPath);
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    const [command, ...execArgs] = manifest.exec as [string, ...string[]];
    const slots = new SharedArrayBuffer(SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT);
    this.#pump.expect(input.id, input.instance, slots);
    return ProcessInstance.start({
      name: input.name,
      id: input.id,
      instance: input.instance,
      // A path inside the bundle, "node" as the host's own Node, or a command on PATH.
      command: command.includes('/') ? path.join(record.bundleDir, command) : command === 'node' ? process.execPath : command,
      args: [...execArgs, ...manifest.args].map((a) => a.replaceAll('{socket}', socketPath)),
      cwd: path.join(record.bundleDir, manifest.workdir),
      env: { ...pluginEnv(record), PLUGD_SDK: SDK_URL },
      socketPath,
      logSocket: await this.#pump.processSocket(),
      slots,
      graceMs: this.#options.stopTimeoutMs,
      nice: this.#options.pluginNice,
      activationTimeoutMs: this.#options.activationTimeoutMs,
      watchdogMs: this.#options.watchdogMs,
      tasks: this.#tasks,
      stderrTail: () => this.#pump.stderrTail(input.id, input.instance, STDERR_TAIL_LINES),
      spawner: this.#spawner,
    });
  }

  /** Puts an activated instance under the watchdog (workers) or the health probes (processes). */
  activated(instance: PluginInstance): void {
    this.#activating.delete(instance);
    const onHung = () => {
      const what = instance.kind === 'worker' ? 'blocked its event loop' : 'did not answer a health check';
      // Info, not a warning: the state change that follows carries the error, once.
      this.#log.info(
        { plugin: instance.name, instance: instance.instance },
        `watchdog: ${instance.name} ${what} for ${this.#options.watchdogMs} ms; terminating it`,
      );
      instance.kill('hung');
    };
    const unwatch =
      instance.kind === 'worker' ? this.#watchdog.watch(instance.slots, onHung) : this.#probes.watch(instance as ProbedInstance, onHung);
    void instance.exited.then(unwatch);
  }

  /** The plugin's instance, if it has one now. */
  current(name: string): PluginInstance | undefined {
    return this.#entries.get(name)?.instance;
  }

  /** Resolves once the warm pool (if any) holds all its standby threads. */
  warmed(): Promise<void> {
    return this.#warm?.whenFull() ?? Promise.resolve();
  }

  /** Kills what is still running (never waiting on a terminate) and ends the pools. */
  async close(): Promise<void> {
    for (const instance of this.#live) instance.kill('stopped');
    this.#watchdog.close();
    this.#probes.close();
    await Promise.all([...this.#live].map((i) => i.exited));
    // Only now: a wrapper's parent-death signal fires when the thread that started it ends.
    await this.#spawner.close();
    await this.#warm?.close();
    await Promise.all(this.#unpublishing);
    await this.#containers.close();
  }
}
