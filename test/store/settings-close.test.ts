// close() resolves only once every settings write queued before it has landed: a host may remove
// the store at once (rm -rf used to fail with ENOTEMPTY, a settings.json landing mid-removal).
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSupervisor } from '../../src/index.js';
import { isPlugdError } from '../../src/errors.js';
import { bundle, silent, tempDir } from '../helpers.js';

const ROUNDS = 8;
const PLUGINS = 6;

describe('close() and the settings writes queued before it', () => {
  it(`leaves nothing to write once it resolves: the root is removed at once, ${ROUNDS} times`, async () => {
    const bundles = await Promise.all(Array.from({ length: PLUGINS }, (_, i) => bundle('greeter', { name: `greeter-${i}` })));
    for (let round = 0; round < ROUNDS; round++) {
      const root = path.join(await tempDir(), 'store');
      const sup = await createSupervisor({ logger: silent, root });
      await sup.restored();
      for (const dir of bundles) await sup.install(dir);
      // Half enabled (so a disable writes), half not (so an enable writes); then, without
      // waiting, flip every one and close.
      for (let i = 0; i < PLUGINS; i += 2) await sup.enable(`greeter-${i}`);
      const calls = Array.from({ length: PLUGINS }, (_, i) => (i % 2 === 0 ? sup.disable(`greeter-${i}`) : sup.enable(`greeter-${i}`)));
      calls.forEach((c) => c.catch(() => undefined));
      await sup.close();
      await rm(root, { recursive: true }); // ENOTEMPTY if a write lands meanwhile
      const outcomes = await Promise.allSettled(calls);
      // Every call has settled, so no write is left to come: the root stays gone.
      await expect(stat(root)).rejects.toMatchObject({ code: 'ENOENT' });
      for (const o of outcomes) {
        if (o.status === 'rejected') expect(isPlugdError(o.reason) ? o.reason.code : String(o.reason)).not.toBe('PLUGD_E_STORE');
      }
    }
  }, 120_000);
});
