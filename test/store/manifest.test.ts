import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest, pluginId, type Manifest } from '../../src/store/manifest.js';
import { bundle, supervisor, tempDir } from '../helpers.js';

const valid = {
  name: 'hello',
  version: '1.0.0',
  kind: 'worker',
  entrypoint: 'index.mjs',
  interface: { types: ['Greeter'] },
};

function refusal(raw: unknown): { code: string; field: unknown; message: string } {
  try {
    parseManifest(raw);
  } catch (e) {
    const err = e as { code: string; details?: { field?: unknown }; message: string };
    return { code: err.code, field: err.details?.field, message: err.message };
  }
  throw new Error('the manifest was accepted');
}

describe('manifest validation', () => {
  it('fills in defaults for a minimal manifest', () => {
    expect(parseManifest(valid)).toEqual({
      ...valid,
      env: [],
      args: [],
      permissions: { env: [] },
      restart: { policy: 'no' },
      requires: [],
    });
  });

  it('accepts Docker\'s "on-failure:N" spelling', () => {
    expect(parseManifest({ ...valid, restart: { policy: 'on-failure:5' } }).restart).toEqual({ policy: 'on-failure', maxRetries: 5 });
  });

  it.each([
    ['name', { ...valid, name: 'Hello World' }],
    ['name', { ...valid, name: '../escape' }],
    ['version', { ...valid, version: 'one' }],
    ['kind', { ...valid, kind: 'vm' }],
    ['entrypoint', { ...valid, entrypoint: '../outside.mjs' }],
    ['entrypoint', { ...valid, entrypoint: '/etc/passwd' }],
    ['interface.types', { ...valid, interface: { types: [] } }],
    ['restart.policy', { ...valid, restart: { policy: 'sometimes' } }],
    ['restart.maxRetries', { ...valid, restart: { policy: 'always', maxRetries: 3 } }],
    ['env[0].name', { ...valid, env: [{ name: 'BAD-NAME', value: 'x' }] }],
    ['requires', { ...valid, requires: ['hello'] }],
    ['surprise', { ...valid, surprise: true }],
    ['interface.extra', { ...valid, interface: { types: ['Greeter'], extra: 1 } }],
  ])('refuses a bad "%s" with PLUGD_E_MANIFEST naming the field', (field, raw) => {
    expect(refusal(raw)).toMatchObject({ code: 'PLUGD_E_MANIFEST', field });
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the prototype-polluting key "%s"', (key) => {
    const raw = JSON.parse(
      `{ ${JSON.stringify(key)}: { "polluted": true }, "name": "hello", "version": "1.0.0", "kind": "worker", ` +
        `"entrypoint": "i.mjs", "interface": { "types": ["T"] } }`,
    );
    expect(refusal(raw)).toMatchObject({ code: 'PLUGD_E_MANIFEST', field: key, message: expect.stringContaining('prototype') });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives the same ID to the same bytes and another ID to other bytes', () => {
    const m = parseManifest(valid) as Manifest;
    const reordered = parseManifest(
      JSON.parse(JSON.stringify({ interface: valid.interface, kind: 'worker', entrypoint: 'index.mjs', version: '1.0.0', name: 'hello' })),
    );
    expect(pluginId(m, 'digest-a')).toBe(pluginId(reordered, 'digest-a'));
    expect(pluginId(m, 'digest-a')).not.toBe(pluginId(m, 'digest-b'));
  });
});

describe('installing a bad bundle', () => {
  async function storeFiles(root: string): Promise<string[]> {
    const list = async (dir: string): Promise<string[]> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? list(path.join(dir, e.name)) : [path.join(dir, e.name)])));
      return nested.flat();
    };
    return (await list(root)).map((f) => path.relative(root, f)).sort();
  }

  async function expectRefusedUntouched(bundleDir: string, code: string) {
    const sup = await supervisor();
    await sup.install(await bundle('greeter'));
    const before = await storeFiles(sup.root);
    const index = await readFile(path.join(sup.root, 'plugins.json'), 'utf8');
    await expect(sup.install(bundleDir)).rejects.toMatchObject({ code });
    expect(await storeFiles(sup.root)).toEqual(before);
    expect(await readFile(path.join(sup.root, 'plugins.json'), 'utf8')).toBe(index);
  }

  it('refuses a folder without plugin.json', async () => {
    await expectRefusedUntouched(await tempDir(), 'PLUGD_E_MANIFEST');
  });

  it('refuses plugin.json that is not JSON', async () => {
    const dir = await bundle('greeter');
    await writeFile(path.join(dir, 'plugin.json'), '{ "name": "greeter", ');
    await expectRefusedUntouched(dir, 'PLUGD_E_MANIFEST');
  });

  it('refuses an entrypoint that is missing', async () => {
    await expectRefusedUntouched(await bundle('greeter', { entrypoint: 'missing.mjs' }), 'PLUGD_E_MANIFEST');
  });

  it('refuses an entrypoint that leaves the bundle through a symlink', async () => {
    const dir = await bundle('greeter', { entrypoint: 'link.mjs' });
    const outside = path.join(await tempDir(), 'outside.mjs');
    await writeFile(outside, 'export default {}');
    await symlink(outside, path.join(dir, 'link.mjs'));
    await expectRefusedUntouched(dir, 'PLUGD_E_MANIFEST');
  });

  it('refuses any other symlink out of the bundle', async () => {
    const dir = await bundle('greeter');
    await mkdir(path.join(dir, 'lib'));
    await symlink('/etc', path.join(dir, 'lib', 'etc'));
    await expectRefusedUntouched(dir, 'PLUGD_E_BUNDLE');
  });

  it('refuses an unknown key and a prototype-polluting key', async () => {
    await expectRefusedUntouched(await bundle('greeter', { surprise: 1 }), 'PLUGD_E_MANIFEST');
    const dir = await bundle('greeter');
    const text = await readFile(path.join(dir, 'plugin.json'), 'utf8');
    await writeFile(path.join(dir, 'plugin.json'), text.replace('{', '{ "__proto__": { "x": 1 },'));
    await expectRefusedUntouched(dir, 'PLUGD_E_MANIFEST');
  });

  it('refuses a path that is not a folder', async () => {
    await expectRefusedUntouched('/nonexistent/bundle', 'PLUGD_E_BUNDLE');
  });

  it('refuses a second plugin with an installed name', async () => {
    await expectRefusedUntouched(await bundle('greeter', { version: '2.0.0' }), 'PLUGD_E_EXISTS');
  });

  it('refuses a plugin whose permissions were not granted, and installs it when they are', async () => {
    const dir = await bundle('crasher', { permissions: { env: ['HOME'] } });
    await expectRefusedUntouched(dir, 'PLUGD_E_PERMISSION');
    const sup = await supervisor();
    await expect(sup.install(dir, { grantPermissions: true })).resolves.toMatchObject({ name: 'crasher' });
  });
});
