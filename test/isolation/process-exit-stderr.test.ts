import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlugdError } from '../../src/errors.js';
import { bundle, supervisor, tempDir } from '../helpers.js';

async function rejection(p: Promise<unknown>): Promise<PlugdError> {
  return p.then(
    () => {
      throw new Error('it resolved');
    },
    (e: unknown) => e as PlugdError,
  );
}

describe('a process plugin that exits while it activates', () => {
  it('says why: its last stderr lines are in the rejection and in lastError', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('proc-stderr-exit'));
    const error = await rejection(sup.enable('proc-stderr-exit'));
    expect(error.code).toBe('PLUGD_E_PLUGIN_EXITED');
    expect(error.message).toContain('plugin "proc-stderr-exit" exited with code 1 before it activated');
    expect(error.message).toContain('cannot open /etc/proc-stderr-exit.conf: no such file');
    expect(error.message).toContain('checking setting 12');
    expect(error.message).not.toContain('checking setting 3\n'); // the last 10 lines, not all
    const info = sup.inspect('proc-stderr-exit');
    expect(info.state).toBe('disabled');
    expect(info.lastError).toEqual({ code: 'PLUGD_E_PLUGIN_EXITED', message: error.message, details: error.details });
    const lines = error.message.split('\n').slice(1);
    expect(lines).toHaveLength(10);
    expect(lines.at(-1)).toBe('  proc-stderr-exit: cannot open /etc/proc-stderr-exit.conf: no such file');
  });

  it('shows what Node said when the plugin imports a package it cannot find, without the stack frames', async () => {
    const dir = path.join(await tempDir('plugd-bundle-'), 'proc-missing-dep');
    await mkdir(dir);
    await writeFile(
      path.join(dir, 'plugin.json'),
      JSON.stringify({
        name: 'proc-missing-dep',
        version: '1.0.0',
        kind: 'process',
        exec: ['node', 'main.mjs'],
        interface: { types: ['Nothing'] },
      }),
    );
    await writeFile(path.join(dir, 'main.mjs'), "import 'no-such-package-for-plugd';\n");
    const sup = await supervisor();
    await sup.install(dir);
    const error = await rejection(sup.enable('proc-missing-dep'));
    expect(error.code).toBe('PLUGD_E_PLUGIN_EXITED');
    expect(error.message).toContain("Cannot find package 'no-such-package-for-plugd'");
    expect(error.message).not.toMatch(/\n\s+at /); // stack frames are left out of the tail
  });
});
