import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundle, supervisor, tempDir } from '../helpers.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/docker-container/', import.meta.url));

describe('the engine of container plugins', () => {
  it('is the one DOCKER_HOST names: an engine that does not answer fails the activation, saying where it looked', async () => {
    // This file's own process: the engine client is made on first use, after this.
    const missing = path.join(await tempDir(), 'no-engine.sock');
    process.env.DOCKER_HOST = `unix://${missing}`;
    const sup = await supervisor();
    await sup.install(await bundle(FIXTURE, { restart: 'no' }));
    await expect(sup.enable('docker-container')).rejects.toMatchObject({
      code: 'PLUGD_E_ACTIVATION',
      message: expect.stringContaining(`DOCKER_HOST=unix://${missing}`),
    });
    expect(sup.inspect('docker-container')).toMatchObject({ state: 'disabled', lastError: { code: 'PLUGD_E_ACTIVATION' } });
  });
});
