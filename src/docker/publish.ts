// Publishes the sockets of plugins plugd runs where dockerd looks for legacy plugins: a symlink
// `<dockerPluginsDir>/<name>.sock` to the plugin's socket while an instance runs, so that
// `docker volume create -d <name>` reaches a plugin plugd supervises. dockerd dials the path for
// every connection, so a restarted plugin is reached again without restarting dockerd.
import { mkdir, readlink, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { PlugdError } from '../errors.js';

export class DockerPublisher {
  readonly #dir: string;
  /** Per plugin name, the last publish or unpublish: they run in order, never interleaved. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** `<dir>/<name>.sock` (a scoped name `team/x` is `<dir>/team/x.sock`, where dockerd looks for it). */
  linkOf(name: string): string {
    return path.join(this.#dir, `${name}.sock`);
  }

  /** Links `<dir>/<name>.sock` to `socketPath`, replacing a link left by an earlier instance. */
  publish(name: string, socketPath: string): Promise<void> {
    return this.#queue(name, async () => {
      const link = this.linkOf(name);
      try {
        await mkdir(path.dirname(link), { recursive: true, mode: 0o755 });
        const current = await readlink(link).catch(() => null);
        if (current === socketPath) return;
        // Only a link of ours is replaced: a socket a foreign plugin serves there is left alone.
        if (current !== null) await rm(link, { force: true });
        await symlink(socketPath, link);
      } catch (e) {
        throw new PlugdError(
          'PLUGD_E_ACTIVATION',
          `plugin "${name}" cannot be published for dockerd at ${link}: ${(e as Error).message}; check dockerPluginsDir`,
          { cause: e },
        );
      }
    });
  }

  /** Removes the link if it still points at `socketPath`. */
  unpublish(name: string, socketPath: string): Promise<void> {
    return this.#queue(name, async () => {
      const link = this.linkOf(name);
      if ((await readlink(link).catch(() => null)) === socketPath) await rm(link, { force: true });
    });
  }

  #queue(name: string, job: () => Promise<void>): Promise<void> {
    const next = (this.#queues.get(name) ?? Promise.resolve()).then(job, job);
    const settled = next.catch(() => undefined);
    this.#queues.set(name, settled);
    void settled.then(() => {
      if (this.#queues.get(name) === settled) this.#queues.delete(name);
    });
    return next;
  }
}
