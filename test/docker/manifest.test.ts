import { describe, expect, it } from 'vitest';
import { parseManifest, pluginId } from '../../src/store/manifest.js';
import { PlugdError } from '../../src/errors.js';

const base = { name: 'p', version: '1.0.0', interface: { types: ['VolumeDriver'] } };
const container = { ...base, kind: 'container', image: 'local/plugd-volumes' };
const processPlugin = { ...base, kind: 'process', exec: ['node', 'server.mjs'] };

function refusal(raw: unknown): { code: string; field: unknown } {
  try {
    parseManifest(raw);
  } catch (e) {
    if (e instanceof PlugdError) return { code: e.code, field: e.details?.field };
    throw e;
  }
  throw new Error('accepted');
}

describe('the manifest of a container plugin', () => {
  it('takes an image and optional cmd, user, limits and network ("none" by default)', () => {
    expect(parseManifest(container)).toMatchObject({
      kind: 'container',
      image: 'local/plugd-volumes',
      network: 'none',
      interface: { types: ['VolumeDriver'], socket: 'plugin.sock' },
    });
    const full = {
      ...container,
      cmd: ['node', '/plugin/server.mjs'],
      user: '1000:1000',
      readOnly: true,
      memoryMb: 64,
      pids: 32,
      cpus: 0.5,
      network: 'bridge',
      interface: { types: ['VolumeDriver'], socket: 'volumes.sock' },
      docker: { publish: true },
    };
    expect(parseManifest(full)).toMatchObject({ ...full, kind: 'container' });
  });

  it.each([
    ['image', { ...container, image: undefined }],
    ['image', { ...container, image: '../x y' }],
    ['cmd', { ...container, cmd: [] }],
    ['cmd[0]', { ...container, cmd: [1] }],
    ['user', { ...container, user: 'root; rm' }],
    ['readOnly', { ...container, readOnly: 'yes' }],
    ['memoryMb', { ...container, memoryMb: 2 }],
    ['pids', { ...container, pids: 0.5 }],
    ['cpus', { ...container, cpus: 0 }],
    ['network', { ...container, network: 'host' }],
    ['exec', { ...container, exec: ['x'] }],
    ['entrypoint', { ...container, entrypoint: 'x.mjs' }],
    ['image', { ...processPlugin, image: 'local/x' }],
    ['memoryMb', { ...base, kind: 'worker', entrypoint: 'i.mjs', memoryMb: 64 }],
    ['docker', { ...base, kind: 'worker', entrypoint: 'i.mjs', docker: { publish: true } }],
    ['docker.publish', { ...processPlugin, docker: { publish: 'yes' } }],
    ['docker.nope', { ...processPlugin, docker: { publish: true, nope: 1 } }],
    ['docker', { ...processPlugin, docker: true }],
  ])('refuses a bad "%s" with PLUGD_E_MANIFEST naming the field', (field, raw) => {
    expect(refusal(raw)).toEqual({ code: 'PLUGD_E_MANIFEST', field });
  });

  it('leaves the ID of a manifest without "docker" as it was', () => {
    const parsed = parseManifest(processPlugin);
    expect(parsed).not.toHaveProperty('docker');
    expect(pluginId(parsed, 'd')).not.toBe(pluginId(parseManifest({ ...processPlugin, docker: { publish: true } }), 'd'));
  });
});
