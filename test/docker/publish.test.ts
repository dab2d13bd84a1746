import { randomBytes } from 'node:crypto';
import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundle, nextState, onCleanup, supervisor, tempDir } from '../helpers.js';
import { docker, requireEngine } from './engine.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/docker-volumes/', import.meta.url));
/** Where dockerd (started with its defaults) looks for legacy plugins. */
const DOCKER_PLUGINS = '/run/docker/plugins';

requireEngine();

describe('a process plugin published for dockerd ("docker": { "publish": true })', () => {
  it("serves docker volume and docker run -v, and serves them again after a SIGKILL and plugd's restart", async () => {
    const volumesDir = await tempDir('plugd-volumes-');
    // A name of its own per run, so that dockerd's caches of earlier runs do not answer.
    const name = `plugd-test-${randomBytes(4).toString('hex')}`;
    const volume = `${name}-data`;
    const sup = await supervisor();
    await sup.install(
      await bundle(FIXTURE, {
        name,
        env: [{ name: 'VOLUMES_DIR', value: volumesDir, settable: true }],
      }),
    );
    await sup.enable(name);
    const link = path.join(DOCKER_PLUGINS, `${name}.sock`);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);

    await docker('volume', 'create', '-d', name, volume);
    // Removed while the plugin still runs: once it is gone, dockerd would retry it for 30 s.
    let removed = false;
    onCleanup(() => removed || docker('volume', 'rm', '-f', volume).catch(() => undefined));
    await docker('run', '--rm', '--network', 'none', '-v', `${volume}:/data`, 'local/busybox', 'sh', '-c', 'echo hi > /data/x');
    expect(await readFile(path.join(volumesDir, volume, 'x'), 'utf8')).toBe('hi\n');
    expect(await docker('run', '--rm', '--network', 'none', '-v', `${volume}:/data`, 'local/busybox', 'cat', '/data/x')).toBe('hi');

    // SIGKILL the plugin's process: plugd restarts it (policy "always") at the same socket.
    const { pid } = (await (await sup.get(name, 'VolumeDriver')).call('Fixture.Pid', {})) as { pid: number };
    const restarted = nextState(sup, name, 'running', () => sup.inspect(name).instance?.number === 2);
    process.kill(pid, 'SIGKILL');
    await restarted;
    expect(sup.inspect(name)).toMatchObject({ state: 'running', instance: { number: 2 } });
    expect(await readlink(link)).toBe(path.join(sup.root, 'run', sup.inspect(name).id.slice(0, 12), 'volumes.sock'));

    // The same dockerd, never restarted, reaches the new instance.
    expect(await docker('volume', 'ls', '--quiet', '--filter', `driver=${name}`)).toBe(volume);
    expect(await docker('run', '--rm', '--network', 'none', '-v', `${volume}:/data`, 'local/busybox', 'cat', '/data/x')).toBe('hi');
    await docker('volume', 'rm', volume);
    removed = true;

    // Unpublished once it stops.
    await sup.disable(name);
    await expect
      .poll(() =>
        lstat(link).then(
          () => 'linked',
          (e: NodeJS.ErrnoException) => e.code,
        ),
      )
      .toBe('ENOENT');
  });

  it('publishes into dockerPluginsDir, and only plugins that ask to be published', async () => {
    const dir = await tempDir('plugd-docker-plugins-');
    const sup = await supervisor({ dockerPluginsDir: dir });
    const volumesDir = await tempDir('plugd-volumes-');
    await sup.install(await bundle(FIXTURE, { env: [{ name: 'VOLUMES_DIR', value: volumesDir, settable: true }] }));
    await sup.install(
      await bundle(FIXTURE, {
        name: 'unpublished',
        docker: { publish: false },
        env: [{ name: 'VOLUMES_DIR', value: volumesDir, settable: true }],
      }),
    );
    await sup.enable('docker-volumes');
    await sup.enable('unpublished');
    expect((await lstat(path.join(dir, 'docker-volumes.sock'))).isSymbolicLink()).toBe(true);
    await expect(lstat(path.join(dir, 'unpublished.sock'))).rejects.toMatchObject({ code: 'ENOENT' });
    await sup.close();
    await expect(lstat(path.join(dir, 'docker-volumes.sock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
