// Runs container plugins on a Docker Engine: makes and starts one container per instance (the
// plugin's run folder bind-mounted at /run/plugd, the manifest's limits mapped to the engine's,
// no restart policy of Docker's: plugd alone decides restarts), pipes its output to the log
// pump, and removes every container it made. Containers carry the store's root as a label, so a
// supervisor opening that root removes what a predecessor killed with SIGKILL left running.
import { chown, mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import type { InstanceActorInput } from '../../machines/plugin.machine.js';
import { ContainerInstance } from '../isolation/container-instance.js';
import { pluginEnv } from '../isolation/plugin-env.js';
import { SLOT_COUNT } from '../isolation/wire-constants.mjs';
import type { LogPump } from '../logs/log-pump.js';
import type { ResolvedOptions } from '../options.js';
import type { ContainerManifest } from '../store/manifest.js';
import type { PluginRecord } from '../store/store.js';
import type { TaskPool } from '../tasks/task-pool.js';
import { engineClient, engineError, type Engine } from './engine.js';

/** The label holding the root of the store whose supervisor made the container. */
export const ROOT_LABEL = 'io.plugd.root';
/** Where the plugin's run folder appears inside its container. */
export const CONTAINER_RUN_DIR = '/run/plugd';

export interface ContainerRuntimeOptions {
  root: string;
  options: ResolvedOptions;
  pump: LogPump;
  tasks: TaskPool;
  log: Logger;
}

export class ContainerRuntime {
  readonly #root: string;
  readonly #options: ResolvedOptions;
  readonly #pump: LogPump;
  readonly #tasks: TaskPool;
  readonly #log: Logger;
  /** The sweep of containers left by a killed predecessor, once per supervisor. */
  #swept: Promise<void> | null = null;
  /** The removal of every container made and not yet removed; close() waits for them. */
  readonly #removing = new Set<Promise<void>>();

  constructor(options: ContainerRuntimeOptions) {
    this.#root = path.resolve(options.root);
    this.#options = options.options;
    this.#pump = options.pump;
    this.#tasks = options.tasks;
    this.#log = options.log;
  }

  /**
   * Removes the containers labelled with this root: a supervisor holds its root alone (the
   * store lock), so any such container was left by an earlier one. Runs once; later calls wait.
   */
  sweep(): Promise<void> {
    this.#swept ??= (async () => {
      const engine = await engineClient();
      const left = await engine.listContainers({ all: true, filters: { label: [`${ROOT_LABEL}=${this.#root}`] } });
      await Promise.all(
        left.map(async (info) => {
          await engine
            .getContainer(info.Id)
            .remove({ force: true })
            .catch(() => undefined);
          this.#log.info(
            { container: info.Id.slice(0, 12), plugin: info.Labels['io.plugd.plugin'] },
            'removed a plugin container left by an earlier supervisor',
          );
        }),
      );
    })().catch((e: unknown) => {
      this.#log.warn({ err: e }, `cannot look for plugin containers left by an earlier supervisor: ${(e as Error).message}`);
    });
    return this.#swept;
  }

  /** Makes and starts the instance's container; a failure leaves no container behind. */
  async start(
    record: PluginRecord,
    manifest: ContainerManifest,
    input: InstanceActorInput,
    socketPath: string,
  ): Promise<ContainerInstance> {
    await this.sweep();
    const engine = await engineClient();
    const runDir = path.dirname(socketPath);
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    await rm(socketPath, { force: true }); // the socket of an earlier instance
    const uid = manifest.user !== undefined ? /^(\d+)(?::(\d+))?$/.exec(manifest.user) : null;
    // A numeric user must be able to create its socket; the folder stays closed to others.
    if (uid) await chown(runDir, Number(uid[1]), Number(uid[2] ?? uid[1]));
    let container: Dockerode.Container;
    try {
      container = await engine.createContainer(this.#createOptions(record, manifest, input, socketPath));
    } catch (e) {
      throw engineError(`plugin "${input.name}": the engine did not create a container of ${manifest.image}`, e);
    }
    const slots = new SharedArrayBuffer(SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT);
    try {
      this.#pump.expect(input.id, input.instance, slots);
      await this.#pipeOutput(engine, container, input);
      await container.start();
    } catch (e) {
      this.#track(this.#remove(container));
      throw engineError(`plugin "${input.name}": its container did not start`, e);
    }
    const instance = new ContainerInstance({
      name: input.name,
      instance: input.instance,
      container,
      socketPath,
      slots,
      graceMs: this.#options.stopTimeoutMs,
      memoryMb: manifest.memoryMb,
      activationTimeoutMs: this.#options.activationTimeoutMs,
      watchdogMs: this.#options.watchdogMs,
      tasks: this.#tasks,
      remove: (c) => this.#remove(c),
    });
    this.#track(instance.removed);
    return instance;
  }

  #createOptions(
    record: PluginRecord,
    manifest: ContainerManifest,
    input: InstanceActorInput,
    socketPath: string,
  ): Dockerode.ContainerCreateOptions {
    const inside = path.posix.join(CONTAINER_RUN_DIR, path.basename(socketPath));
    const args = manifest.args.map((a) => a.replaceAll('{socket}', inside));
    const cmd = manifest.cmd ? [...manifest.cmd, ...args] : args.length > 0 ? args : undefined;
    const env = { ...pluginEnv(record), PLUGD_SOCKET: inside };
    const host: Dockerode.HostConfig = {
      Binds: [`${path.dirname(socketPath)}:${CONTAINER_RUN_DIR}`],
      NetworkMode: manifest.network,
      RestartPolicy: { Name: 'no' },
      // docker-init as PID 1: it forwards SIGTERM to the plugin (PID 1 would ignore it) and reaps.
      Init: true,
      ReadonlyRootfs: manifest.readOnly ?? false,
    };
    if (manifest.memoryMb !== undefined) {
      host.Memory = manifest.memoryMb * 1024 * 1024;
      host.MemorySwap = host.Memory; // no swap on top
    }
    if (manifest.pids !== undefined) host.PidsLimit = manifest.pids;
    if (manifest.cpus !== undefined) host.NanoCpus = Math.round(manifest.cpus * 1e9);
    return {
      Image: manifest.image,
      ...(cmd ? { Cmd: cmd } : {}),
      ...(manifest.user !== undefined ? { User: manifest.user } : {}),
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: {
        [ROOT_LABEL]: this.#root,
        'io.plugd.plugin': input.name,
        'io.plugd.id': record.id,
        'io.plugd.instance': String(input.instance),
      },
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      StopSignal: 'SIGTERM',
      HostConfig: host,
    };
  }

  /**
   * Attaches to the container before it starts (no line is missed) and pipes its stdout and
   * stderr, unparsed, to the log pump's socket as a process plugin's wrapper does: the pump
   * thread frames, rate-limits and counts the lines.
   */
  async #pipeOutput(engine: Engine, container: Dockerode.Container, input: InstanceActorInput): Promise<void> {
    const logSocket = await this.#pump.processSocket();
    const stream = await container.attach({ stream: true, stdout: true, stderr: true, logs: true });
    const [stdout, stderr] = (['stdout', 'stderr'] as const).map((name) => {
      const socket = net.connect(logSocket);
      socket.write(`${JSON.stringify({ id: input.id, name: input.name, instance: input.instance, stream: name })}\n`);
      socket.on('error', () => socket.destroy());
      return socket;
    }) as [net.Socket, net.Socket];
    engine.modem.demuxStream(stream, stdout, stderr);
    stream.on('end', () => {
      stdout.end();
      stderr.end();
    });
    stream.on('error', () => {
      stdout.end();
      stderr.end();
    });
  }

  #remove(container: Dockerode.Container): Promise<void> {
    return container.remove({ force: true }).then(
      () => undefined,
      (e: unknown) => {
        // 404: gone already; 409: a removal is under way.
        const status = (e as { statusCode?: number }).statusCode;
        if (status !== 404 && status !== 409)
          this.#log.warn({ err: e, container: container.id.slice(0, 12) }, `cannot remove plugin container: ${(e as Error).message}`);
      },
    );
  }

  #track(removal: Promise<void>): void {
    this.#removing.add(removal);
    void removal.then(() => this.#removing.delete(removal));
  }

  /** Waits until every container made is removed (the instances were killed before), and for the sweep. */
  async close(): Promise<void> {
    await this.#swept?.catch(() => undefined);
    while (this.#removing.size > 0) await Promise.all(this.#removing);
  }
}
