// "constructor" is a valid plugin name (the only member of Object.prototype the name pattern
// allows): as a name or in requires, it is a name like any other.
import { describe, expect, it } from 'vitest';
import { bundle, supervisor } from '../helpers.js';

describe('a plugin named constructor', () => {
  it('installs, runs, is required by another, stops and is removed like any other', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter', { name: 'constructor' }));
    await sup.install(await bundle('greeter', { name: 'needs-ctor', requires: ['constructor'] }));
    await sup.enable('needs-ctor');
    expect([sup.inspect('constructor').state, sup.inspect('needs-ctor').state]).toEqual(['running', 'running']);
    await expect((await sup.get('constructor', 'Greeter')).call('Greeter.Hello', { name: 'you' })).resolves.toMatchObject({
      greeting: 'hello you',
    });
    await sup.disable('constructor', { force: true });
    await sup.disable('needs-ctor');
    await sup.remove('needs-ctor');
    await sup.remove('constructor');
    expect(sup.list()).toEqual([]);
  });

  it('a plugin requiring constructor, which is not installed, is refused on enable and removed', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('greeter', { name: 'needs-ctor', requires: ['constructor'] }));
    await expect(sup.enable('needs-ctor')).rejects.toMatchObject({ code: 'PLUGD_E_DEPENDENCY' });
    await sup.remove('needs-ctor');
    expect(sup.list()).toEqual([]);
  });
});
