// Installing plugins from a real npm registry (verdaccio on 127.0.0.1): ranges, upgrades,
// dependencies, tampered tarballs, a registry that stops or hangs, packages that are no plugin.
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSupervisor, type InstallProgress, type Supervisor } from '../../src/index.js';
import { EXAMPLES, onCleanup, silent, supervisor } from '../helpers.js';
import { plugd } from '../cli/run-plugd.js';
import { isolateNpmConfig } from './npm-env.js';
import { startRegistry, type Registry } from './verdaccio.js';

let registry: Registry;
let restoreNpmConfig: (() => void) | undefined;

beforeAll(async () => {
  registry = await startRegistry();
  restoreNpmConfig = isolateNpmConfig(registry.npmrc);
  await Promise.all([
    registry.publish(
      { fixture: 'npm-lib' },
      // Published alongside 2.0.0: a tag other than latest, so either may land first.
      { fixture: 'npm-greet', overrides: { version: '1.1.0', publishConfig: { tag: 'v1' } } },
      { fixture: 'npm-with-dep' },
      { fixture: 'npm-no-manifest' },
      { fixture: 'npm-greet', overrides: { name: '@plugd-test/moving' } },
      { fixture: path.join(EXAMPLES, 'hello-npm'), overrides: { name: '@plugd-test/hello-npm' } },
      { fixture: 'npm-with-dep', overrides: { name: '@plugd-test/broken-dep', dependencies: { '@plugd-test/never-published': '^1.0.0' } } },
    ),
    registry.publish({ fixture: 'npm-greet', overrides: { version: '2.0.0' } }),
  ]);
}, 60_000);

afterAll(async () => {
  restoreNpmConfig?.();
  await registry?.remove();
});

/** Nothing recorded and nothing left on disk: no record, no scratch folder. */
async function expectStoreUntouched(sup: Supervisor): Promise<void> {
  expect(sup.list()).toEqual([]);
  expect(await readdir(path.join(sup.root, 'plugins'))).toEqual([]);
}

function bundleFile(sup: Supervisor, id: string, ...parts: string[]): string {
  return path.join(sup.root, 'plugins', id, 'bundle', ...parts);
}

describe('install from the registry', () => {
  it('installs the newest version a range allows, checked against its integrity, and remembers where it came from', async () => {
    const sup = await supervisor();
    const steps: InstallProgress[] = [];
    const { id, name } = await sup.install('npm:@plugd-test/greet@^1.0.0', { onProgress: (e) => steps.push(e) });
    expect(name).toBe('plugd-test/greet');
    const info = sup.inspect(name);
    expect(info.version).toBe('1.1.0');
    expect(info.source).toEqual({
      spec: 'npm:@plugd-test/greet@^1.0.0',
      resolved: `${registry.url}@plugd-test/greet/-/greet-1.1.0.tgz`,
      integrity: expect.stringMatching(/^sha512-/),
    });
    expect([...new Set(steps.map((s) => s.step))]).toEqual(['resolve', 'download', 'verify', 'unpack', 'digest']);
    const downloads = steps.filter((s) => s.step === 'download');
    expect(downloads.at(-1)).toMatchObject({ name: '@plugd-test/greet', version: '1.1.0', bytes: expect.any(Number) });
    expect((downloads.at(-1) as { bytes: number }).bytes).toBeGreaterThan(0);

    await sup.enable(name);
    await expect((await sup.get(name, 'Greeter')).call('Greeter.Hello', { name: 'Ada' })).resolves.toEqual({
      greeting: 'hello Ada',
      version: '1.1.0',
    });

    // The source is part of the record: a reopened store still knows it.
    const root = sup.root;
    await sup.close();
    const reopened = await createSupervisor({ root, logger: silent, restore: false });
    onCleanup(() => reopened.close());
    expect(reopened.inspect(id).source).toEqual(info.source);
  });

  it("installs a package's dependencies into its bundle without running install scripts", async () => {
    const sup = await supervisor();
    const steps: InstallProgress[] = [];
    const { id, name } = await sup.install('npm:@plugd-test/with-dep', { onProgress: (e) => steps.push(e) });
    expect(steps.map((s) => s.step).filter((s) => s !== 'download')).toEqual(['resolve', 'verify', 'unpack', 'dependencies', 'digest']);
    expect(steps).toContainEqual({ step: 'dependencies', count: 1 });
    await sup.enable(name);
    await expect((await sup.get(name, 'Shouter')).call('Shouter.Shout', { text: 'hi' })).resolves.toBe('HI!');
    const mark = bundleFile(sup, id, 'node_modules', '@plugd-test', 'lib', 'install-script-ran');
    await expect(access(mark)).rejects.toThrow();

    await sup.remove(name, { force: true });
    const again = await sup.install('npm:@plugd-test/with-dep', { allowScripts: true });
    await expect(access(bundleFile(sup, again.id, 'node_modules', '@plugd-test', 'lib', 'install-script-ran'))).resolves.toBeUndefined();
  });

  it("runs the dependencies' install scripts through the CLI and the control API only with --allow-scripts", async () => {
    const sup = await supervisor({ control: true });
    const installed = async (...flags: string[]) => {
      const out = await plugd(sup.root, '--json', 'install', 'npm:@plugd-test/with-dep', ...flags);
      expect([out.code, out.stderr]).toEqual([0, '']);
      return JSON.parse(out.stdout) as { id: string; name: string };
    };
    const plain = await installed();
    await expect(access(bundleFile(sup, plain.id, 'node_modules', '@plugd-test', 'lib', 'install-script-ran'))).rejects.toThrow();
    await sup.remove(plain.name, { force: true });
    const allowed = await installed('--allow-scripts');
    await expect(access(bundleFile(sup, allowed.id, 'node_modules', '@plugd-test', 'lib', 'install-script-ran'))).resolves.toBeUndefined();
  });

  it('installs the example package as its README shows', async () => {
    const sup = await supervisor();
    const { name } = await sup.install('npm:@plugd-test/hello-npm@^1');
    await sup.enable(name);
    await expect((await sup.get(name, 'Greeter')).call('Greeter.Hello', { name: 'Ada' })).resolves.toEqual({
      greeting: 'hello Ada',
      from: 'npm',
    });
  });

  it('refuses an unknown package, version or dependency with PLUGD_E_NOT_FOUND, leaving the store untouched', async () => {
    const sup = await supervisor();
    await expect(sup.install('npm:@plugd-test/no-such-plugin@^1')).rejects.toMatchObject({ code: 'PLUGD_E_NOT_FOUND' });
    await expect(sup.install('npm:@plugd-test/greet@^9')).rejects.toMatchObject({ code: 'PLUGD_E_NOT_FOUND' });
    await expect(sup.install('npm:@plugd-test/broken-dep')).rejects.toMatchObject({
      code: 'PLUGD_E_NOT_FOUND',
      message: expect.stringContaining('dependency'),
    });
    await expectStoreUntouched(sup);
  });

  it('refuses a package that holds no plugin with PLUGD_E_MANIFEST', async () => {
    const sup = await supervisor();
    await expect(sup.install('npm:@plugd-test/no-manifest')).rejects.toMatchObject({ code: 'PLUGD_E_MANIFEST' });
    await expectStoreUntouched(sup);
  });

  it('refuses specs that do not name a registry package', async () => {
    const sup = await supervisor();
    await expect(sup.install('npm:git+https://example.com/plugin.git')).rejects.toMatchObject({ code: 'PLUGD_E_OPTION' });
    await expect(sup.install('npm:Not A Name')).rejects.toMatchObject({ code: 'PLUGD_E_OPTION' });
    await expectStoreUntouched(sup);
  });

  it('never unpacks a tarball that does not match its published integrity (PLUGD_E_INTEGRITY)', async () => {
    const tarball = path.join(registry.storage, '@plugd-test', 'greet', 'greet-2.0.0.tgz');
    const bytes = await readFile(tarball);
    const middle = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
    await writeFile(tarball, bytes);
    const sup = await supervisor();
    const steps: string[] = [];
    await expect(sup.install('npm:@plugd-test/greet@2.0.0', { onProgress: (e) => steps.push(e.step) })).rejects.toMatchObject({
      code: 'PLUGD_E_INTEGRITY',
    });
    expect(steps).not.toContain('unpack');
    await expectStoreUntouched(sup);
  });
});

describe('upgrade from the registry', () => {
  it('moves to the newest version the original range allows, or to another range, keeping settings', async () => {
    const sup = await supervisor();
    const first = await sup.install('npm:@plugd-test/moving@^1');
    expect(sup.inspect(first.name).version).toBe('1.0.0');
    const name = first.name;
    await sup.set(name, ['GREETING=hey']);
    await Promise.all([
      registry.publish({ fixture: 'npm-greet', overrides: { name: '@plugd-test/moving', version: '1.2.0', publishConfig: { tag: 'v1' } } }),
      registry.publish({ fixture: 'npm-greet', overrides: { name: '@plugd-test/moving', version: '2.0.0' } }),
    ]);

    const minor = await sup.upgrade(name);
    expect(minor.previous).toBe(first.id);
    expect(sup.inspect(name)).toMatchObject({ version: '1.2.0', source: { spec: 'npm:@plugd-test/moving@^1' } });

    const major = await sup.upgrade(name, 'npm:@plugd-test/moving@2');
    expect(major.previous).toBe(minor.id);
    expect(sup.inspect(name)).toMatchObject({ version: '2.0.0', source: { spec: 'npm:@plugd-test/moving@2' } });
    await sup.enable(name);
    await expect((await sup.get(name, 'Greeter')).call('Greeter.Hello', { name: 'Ada' })).resolves.toEqual({
      greeting: 'hey Ada',
      version: '2.0.0',
    });
  });

  it('needs a bundle to upgrade a plugin that did not come from the registry', async () => {
    const sup = await supervisor();
    const { name } = await sup.install(path.join(import.meta.dirname, '../fixtures/bundles/greeter'));
    await expect(sup.upgrade(name)).rejects.toMatchObject({ code: 'PLUGD_E_OPTION' });
  });
});

describe('a registry that does not answer', () => {
  it('gives up after registryTimeoutMs with PLUGD_E_REGISTRY', async () => {
    const sockets = new Set<Socket>();
    const silentServer = createServer((socket) => sockets.add(socket)); // accepts, never answers
    await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
    onCleanup(
      () =>
        new Promise((resolve) => {
          for (const socket of sockets) socket.destroy();
          silentServer.close(resolve);
        }),
    );
    const { port } = silentServer.address() as { port: number };
    process.env.npm_config_registry = `http://127.0.0.1:${port}/`;
    onCleanup(() => delete process.env.npm_config_registry);
    const sup = await supervisor({ registryTimeoutMs: 300 });
    await expect(sup.install('npm:some-plugin@^1')).rejects.toMatchObject({ code: 'PLUGD_E_REGISTRY' });
    await expectStoreUntouched(sup);
  });

  it('refuses with PLUGD_E_REGISTRY once the registry is stopped, leaving the store untouched', async () => {
    const sup = await supervisor();
    await registry.stop();
    const error = await sup.install('npm:@plugd-test/greet@^1').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PLUGD_E_REGISTRY', details: { registry: registry.url } });
    await expectStoreUntouched(sup);
  });
});
