// Docker's `plugin upgrade`: a new version of an installed plugin in place of the old one.
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, nextState, supervisor } from './helpers.js';

/** Version 2 of the greeter: another version number, and code that says so. */
async function greeterV2(overrides: Record<string, unknown> = {}): Promise<string> {
  const dir = await bundle('greeter', { version: '2.0.0', ...overrides });
  const code = await readFile(path.join(dir, 'index.mjs'), 'utf8');
  await writeFile(
    path.join(dir, 'index.mjs'),
    code.replace('greeting: `${ctx.env.GREETING} ${name}`', 'greeting: `${ctx.env.GREETING} ${name}, from v2`'),
  );
  return dir;
}

describe('upgrading a plugin', () => {
  it('replaces the record, keeps settable env settings, runs the new code, and survives a host restart', async () => {
    const first = await supervisor();
    const { id: oldId } = await first.install(await bundle('greeter'));
    await first.set('greeter', ['GREETING=hi']);
    await first.enable('greeter');
    await first.disable('greeter');
    const seen: string[] = [];
    first.on('state', (e) => {
      if (e.name === 'greeter') seen.push(e.to);
    });

    const upgraded = await first.upgrade('greeter', await greeterV2());
    expect(upgraded).toMatchObject({ name: 'greeter', previous: oldId });
    expect(upgraded.id).not.toBe(oldId);
    expect(first.inspect('greeter')).toMatchObject({ id: upgraded.id, version: '2.0.0', state: 'installed', enabled: false });
    expect(seen).toEqual(['removed', 'installed']);
    await expect(access(path.join(first.root, 'plugins', oldId))).rejects.toThrow();

    await first.enable('greeter');
    const greeter = await first.get('greeter', 'Greeter');
    await expect(greeter.call('Greeter.Hello', { name: 'Ada' })).resolves.toMatchObject({ greeting: 'hi Ada, from v2' });
    await first.close();

    const second = await supervisor({ root: first.root });
    expect(second.inspect('greeter')).toMatchObject({ id: upgraded.id, version: '2.0.0', state: 'running' });
    expect(second.list()).toHaveLength(1);
  });

  it("refuses a running or acquired plugin, another plugin's bundle and unasked permissions, leaving the plugin as it was", async () => {
    const sup = await supervisor();
    const { id } = await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    await expect(sup.upgrade('greeter', await greeterV2())).rejects.toMatchObject({ code: 'PLUGD_E_STATE' });
    const held = await sup.get('greeter', 'Greeter', { acquire: true });
    await sup.disable('greeter', { force: true });
    await expect(sup.upgrade('greeter', await greeterV2())).rejects.toMatchObject({ code: 'PLUGD_E_IN_USE' });
    held.release();
    await expect(sup.upgrade('greeter', await bundle('crasher'))).rejects.toMatchObject({
      code: 'PLUGD_E_MANIFEST',
      details: { field: 'name' },
    });
    const asking = await greeterV2({ permissions: { env: ['HOME'] } });
    await expect(sup.upgrade('greeter', asking)).rejects.toMatchObject({
      code: 'PLUGD_E_PERMISSION',
      message: expect.stringContaining('HOME'),
    });
    await expect(sup.upgrade('nothing', asking)).rejects.toMatchObject({ code: 'PLUGD_E_NOT_FOUND' });
    expect(sup.inspect('greeter')).toMatchObject({ id, version: '1.0.0', state: 'disabled' });
    await expect(access(path.join(sup.root, 'plugins', id, 'bundle', 'index.mjs'))).resolves.toBeUndefined();

    // While an upgrade runs, the plugin takes no other change.
    const upgrading = sup.upgrade('greeter', asking, { grantPermissions: true });
    await expect(sup.set('greeter', ['GREETING=hey'])).rejects.toMatchObject({
      code: 'PLUGD_E_STATE',
      message: expect.stringContaining('being upgraded'),
    });
    await expect(sup.enable('greeter')).rejects.toMatchObject({ code: 'PLUGD_E_STATE' });
    await expect(sup.upgrade('greeter', asking)).rejects.toMatchObject({ code: 'PLUGD_E_STATE' });
    await expect(upgrading).resolves.toMatchObject({ previous: id });
    const running = nextState(sup, 'greeter', 'running');
    await sup.enable('greeter');
    await running;
  });
});
