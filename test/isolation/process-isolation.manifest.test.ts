import { describe, expect, it } from 'vitest';
import { parseManifest, pluginId } from '../../src/store/manifest.js';
import { permissionFlags, confinedEnv, PERMISSION_FLAG } from '../../src/isolation/permission-flags.js';

const worker = { name: 'w', version: '1.0.0', kind: 'worker', entrypoint: 'index.mjs', interface: { types: ['W'] } };

describe('the manifest field "isolation"', () => {
  it('accepts "thread" and "process" for worker plugins, and is absent unless given', () => {
    expect(parseManifest({ ...worker, isolation: 'process' })).toMatchObject({ isolation: 'process' });
    expect(parseManifest({ ...worker, isolation: 'thread' })).toMatchObject({ isolation: 'thread' });
    const plain = parseManifest(worker);
    expect('isolation' in plain).toBe(false);
    // The IDs of existing manifests do not change.
    expect(pluginId(plain, 'digest')).toBe(pluginId(parseManifest({ ...worker }), 'digest'));
  });

  it('refuses other values, and refuses it on process plugins, with PLUGD_E_MANIFEST naming the field', () => {
    for (const isolation of ['vm', '', 'PROCESS', 1, null, true, ['process'], { kind: 'process' }]) {
      expect(() => parseManifest({ ...worker, isolation }), JSON.stringify(isolation)).toThrow(
        expect.objectContaining({ code: 'PLUGD_E_MANIFEST', details: { field: 'isolation' } }),
      );
    }
    const proc = { name: 'p', version: '1.0.0', kind: 'process', exec: ['./bin/p'], interface: { types: ['P'] }, isolation: 'process' };
    expect(() => parseManifest(proc)).toThrow(expect.objectContaining({ code: 'PLUGD_E_MANIFEST', details: { field: 'isolation' } }));
  });
});

describe('the confinement of a process-isolated plugin', () => {
  it('names the permission flag of this Node, one --allow-fs-* per path, and never grants processes, workers or addons', () => {
    const flags = permissionFlags({ read: ['/a', '/b', '/a'], write: ['/d'], memoryLimitMb: 64 });
    expect(flags[0]).toBe(Number(process.versions.node.split('.')[0]) >= 22 ? '--permission' : '--experimental-permission');
    expect(flags[0]).toBe(PERMISSION_FLAG);
    expect(flags.filter((f) => f.startsWith('--allow-fs-read='))).toEqual(['--allow-fs-read=/a', '--allow-fs-read=/b']);
    expect(flags.filter((f) => f.startsWith('--allow-fs-write='))).toEqual(['--allow-fs-write=/d']);
    expect(flags).toContain('--max-old-space-size=64');
    expect(flags.some((f) => /--allow-(child-process|worker|addons|wasi)/.test(f))).toBe(false);
  });

  it("keeps NODE_OPTIONS and the other NODE_* variables Node reads at startup out of the plugin's env (NODE_ENV stays)", () => {
    expect(confinedEnv({ NODE_OPTIONS: '--allow-child-process', NODE_V8_COVERAGE: '/tmp/x', NODE_ENV: 'production', OWN: '1' })).toEqual({
      NODE_ENV: 'production',
      OWN: '1',
    });
  });
});
