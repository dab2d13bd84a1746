// Record folders describe themselves (manifest + settings): an index that is lost, overwritten or
// that omits complete records is rebuilt from them and the problem reported. Only folders marked
// as an unfinished change are ever swept.
import { access, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IN_PROGRESS_MARKER, Store } from '../../src/store/store.js';
import { bundle, supervisor, tempDir } from '../helpers.js';

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

async function indexedNames(root: string): Promise<string[]> {
  const index = JSON.parse(await readFile(path.join(root, 'plugins.json'), 'utf8')) as { plugins: { name: string }[] };
  return index.plugins.map((p) => p.name);
}

/** A store holding greeter (enabled, with a setting) and crasher, closed. */
async function twoPlugins(): Promise<{ root: string; greeter: string; crasher: string }> {
  const sup = await supervisor();
  const greeter = (await sup.install(await bundle('greeter'))).id;
  const crasher = (await sup.install(await bundle('crasher'))).id;
  await sup.set('greeter', ['GREETING=hi']);
  await sup.enable('greeter');
  await sup.close();
  return { root: sup.root, greeter, crasher };
}

describe('an index that lost its records', () => {
  it('is rebuilt when plugins.json is gone, with settings and enabled flags as they were', async () => {
    const { root } = await twoPlugins();
    await rm(path.join(root, 'plugins.json'));
    const sup = await supervisor({ root });
    expect(sup.list().map((p) => [p.name, p.state])).toEqual([
      ['crasher', 'installed'],
      ['greeter', 'running'],
    ]);
    await expect((await sup.get('greeter', 'Greeter')).call('Greeter.Hello', { name: 'back' })).resolves.toMatchObject({
      greeting: 'hi back',
    });
    expect(sup.problems).toHaveLength(1);
    expect(sup.problems[0]).toMatchObject({ file: path.join(root, 'plugins.json'), error: { code: 'PLUGD_E_STORE' } });
    expect(await indexedNames(root)).toEqual(['crasher', 'greeter']);
  });

  it('is rebuilt when plugins.json was overwritten with a valid but empty index', async () => {
    const { root } = await twoPlugins();
    await writeFile(path.join(root, 'plugins.json'), JSON.stringify({ version: 1, plugins: [] }));
    const sup = await supervisor({ root });
    expect(sup.list().map((p) => p.name)).toEqual(['crasher', 'greeter']);
    expect(sup.problems.map((p) => p.error.code)).toEqual(['PLUGD_E_STORE', 'PLUGD_E_STORE']);
    expect(await indexedNames(root)).toEqual(['crasher', 'greeter']);
  });

  it('gets back a complete record the index omits, naming it in the problem', async () => {
    const { root, greeter, crasher } = await twoPlugins();
    await writeFile(path.join(root, 'plugins.json'), JSON.stringify({ version: 1, plugins: [{ id: greeter, name: 'greeter' }] }));
    const sup = await supervisor({ root });
    expect(sup.list().map((p) => p.name)).toEqual(['crasher', 'greeter']);
    expect(sup.problems).toHaveLength(1);
    expect(sup.problems[0]).toMatchObject({ id: crasher, error: { code: 'PLUGD_E_STORE' } });
    expect(await indexedNames(root)).toEqual(['crasher', 'greeter']);
    // Once rebuilt, the next open has nothing to report.
    await sup.close();
    expect((await supervisor({ root })).problems).toEqual([]);
  });
});

describe('folders that are not records', () => {
  it('sweeps a folder marked as an unfinished install, and keeps an indexed one whose marker outlived the commit', async () => {
    const { root, greeter, crasher } = await twoPlugins();
    await writeFile(path.join(root, 'plugins.json'), JSON.stringify({ version: 1, plugins: [{ id: greeter, name: 'greeter' }] }));
    await writeFile(path.join(root, 'plugins', crasher, IN_PROGRESS_MARKER), JSON.stringify({ change: 'install' }));
    await writeFile(path.join(root, 'plugins', greeter, IN_PROGRESS_MARKER), JSON.stringify({ change: 'install' }));
    const sup = await supervisor({ root });
    expect(sup.problems).toEqual([]);
    expect(sup.list().map((p) => p.name)).toEqual(['greeter']);
    expect(await exists(path.join(root, 'plugins', crasher))).toBe(false);
    expect(await exists(path.join(root, 'plugins', greeter, IN_PROGRESS_MARKER))).toBe(false);
  });

  it('sweeps a folder marked as being removed once the index dropped it', async () => {
    const { root, greeter, crasher } = await twoPlugins();
    await writeFile(path.join(root, 'plugins.json'), JSON.stringify({ version: 1, plugins: [{ id: greeter, name: 'greeter' }] }));
    await writeFile(path.join(root, 'plugins', crasher, IN_PROGRESS_MARKER), JSON.stringify({ change: 'remove' }));
    const sup = await supervisor({ root });
    expect(sup.problems).toEqual([]);
    expect(await exists(path.join(root, 'plugins', crasher))).toBe(false);
  });

  it('with the index lost, keeps what was there before an unfinished change', async () => {
    const { root, greeter, crasher } = await twoPlugins();
    await rm(path.join(root, 'plugins.json'));
    await writeFile(path.join(root, 'plugins', crasher, IN_PROGRESS_MARKER), JSON.stringify({ change: 'install' }));
    await writeFile(path.join(root, 'plugins', greeter, IN_PROGRESS_MARKER), JSON.stringify({ change: 'remove' }));
    const sup = await supervisor({ root });
    expect(sup.list().map((p) => p.name)).toEqual(['greeter']);
    expect(await exists(path.join(root, 'plugins', crasher))).toBe(false);
    expect(await exists(path.join(root, 'plugins', greeter, IN_PROGRESS_MARKER))).toBe(false);
  });

  it('reports, and does not delete, an unmarked folder that is not a complete record', async () => {
    const root = path.join(await tempDir(), 'store');
    const stray = path.join(root, 'plugins', 'f'.repeat(64));
    await mkdir(path.join(stray, 'bundle'), { recursive: true });
    await writeFile(path.join(stray, 'bundle', 'data.txt'), 'keep me');
    const { store, problems } = await Store.open(root);
    expect(store.list()).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ id: 'f'.repeat(64) });
    expect(await readFile(path.join(stray, 'bundle', 'data.txt'), 'utf8')).toBe('keep me');
    await store.close();
  });

  it('keeps the record the index names when a recovered one has the same name', async () => {
    const a = await supervisor();
    const { id: v1 } = await a.install(await bundle('greeter'));
    await a.close();
    const b = await supervisor();
    const { id: v2 } = await b.install(await bundle('greeter', { version: '2.0.0' }));
    await b.close();
    await cp(path.join(b.root, 'plugins', v2), path.join(a.root, 'plugins', v2), { recursive: true });
    const sup = await supervisor({ root: a.root });
    expect(sup.list().map((p) => [p.name, p.id])).toEqual([['greeter', v1]]);
    expect(sup.problems).toHaveLength(1);
    expect(sup.problems[0]).toMatchObject({ id: v2, error: { code: 'PLUGD_E_STORE' } });
    expect(await exists(path.join(a.root, 'plugins', v2, 'plugin.json'))).toBe(true);
  });
});
