import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { asPlugdError, ErrorCodes, fromInfo, PlugdError } from '../src/errors.js';
import { parseManifest } from '../src/store/manifest.js';
import { supervisor, tempDir } from './helpers.js';

const TESTS = fileURLToPath(new URL('.', import.meta.url));

async function testSources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === 'fixtures' ? [] : testSources(full);
      return e.name.endsWith('.test.ts') && e.name !== 'errors.test.ts' ? [await readFile(full, 'utf8')] : [];
    }),
  );
  return nested.flat();
}

/** A worker bundle written on the spot: plugin.json plus an index.mjs. */
async function workerBundle(name: string, source: string): Promise<string> {
  const dir = path.join(await tempDir('plugd-bundle-'), name);
  await mkdir(dir);
  await writeFile(
    path.join(dir, 'plugin.json'),
    JSON.stringify({ name, version: '1.0.0', kind: 'worker', entrypoint: 'index.mjs', interface: { types: ['Greeter'] } }),
  );
  await writeFile(path.join(dir, 'index.mjs'), source);
  return dir;
}

function refusal(fn: () => unknown): PlugdError {
  try {
    fn();
  } catch (e) {
    return e as PlugdError;
  }
  throw new Error('nothing was refused');
}

describe('error codes', () => {
  it('are each expected by some test (as avvio counts its codes)', async () => {
    const sources = (await testSources(TESTS)).join('\n');
    const unexercised = Object.keys(ErrorCodes).filter((code) => !sources.includes(`'${code}'`));
    expect(unexercised).toEqual([]);
  });
});

describe('a PlugdError', () => {
  it('keeps its code out of the message, and shows it once in toString, the stack and util.inspect', () => {
    const error = new PlugdError('PLUGD_E_PLUGIN_HUNG', 'plugin "x" hung');
    expect(error.message).toBe('plugin "x" hung');
    expect(error.name).toBe('PlugdError');
    expect(error.code).toBe('PLUGD_E_PLUGIN_HUNG');
    expect(String(error)).toBe('PlugdError [PLUGD_E_PLUGIN_HUNG]: plugin "x" hung');
    expect(error.stack?.split('\n')[0]).toBe('PlugdError [PLUGD_E_PLUGIN_HUNG]: plugin "x" hung');
    const shown = inspect(error);
    expect(shown.startsWith('PlugdError [PLUGD_E_PLUGIN_HUNG]: plugin "x" hung\n')).toBe(true);
    expect(shown.split('PLUGD_E_PLUGIN_HUNG').length - 1).toBe(2); // the first line, and `code: '…'`
  });

  it('survives a round trip through its plain form', () => {
    const error = new PlugdError('PLUGD_E_PLUGIN_HUNG', 'plugin "x" hung');
    const again = fromInfo(error.toInfo());
    expect(again).toBeInstanceOf(PlugdError);
    expect(again).toMatchObject({ code: 'PLUGD_E_PLUGIN_HUNG', message: 'plugin "x" hung' });
  });

  it('reads cleanly from records an older plugd wrote with the code inside the message', () => {
    expect(fromInfo({ code: 'PLUGD_E_ACTIVATION', message: 'PLUGD_E_ACTIVATION: plugin "x" failed' })).toMatchObject({
      code: 'PLUGD_E_ACTIVATION',
      message: 'plugin "x" failed',
    });
    expect(fromInfo({ code: 'PLUGD_E_GONE', message: 'PLUGD_E_GONE: something' })).toMatchObject({
      code: 'PLUGD_E_PLUGIN_ERROR',
      message: 'something',
    });
  });

  it('is rebuilt from an error that crossed a thread, with its own cause, never itself as the cause', () => {
    const root = new Error('root');
    const crossed = Object.assign(new Error('plugin "x" has no method "m"', { cause: root }), {
      code: 'PLUGD_E_METHOD',
      name: 'PlugdError',
    });
    const rebuilt = asPlugdError(crossed)!;
    expect(rebuilt).toMatchObject({ code: 'PLUGD_E_METHOD', message: 'plugin "x" has no method "m"' });
    expect(rebuilt.cause).toBe(root);
    expect(asPlugdError(new Error('plain'))).toBeUndefined();
  });
});

describe('errors that read once', () => {
  it('an activate() that throws rejects enable wrapped once: the code in `code`, the plugin named once', async () => {
    const sup = await supervisor();
    await sup.install(await workerBundle('thrower', 'export default { activate() { throw new Error("no database"); } };'));
    const error = (await sup.enable('thrower').then(
      () => null,
      (e: unknown) => e,
    )) as PlugdError;
    expect(error).toBeInstanceOf(PlugdError);
    expect(error.code).toBe('PLUGD_E_ACTIVATION');
    expect(error.message).toBe('plugin "thrower": activate() threw: no database');
    // What activate() threw is the cause, for the caller of enable() as for inspect().
    expect(error.cause).toMatchObject({ name: 'Error', message: 'no database' });
    const info = sup.inspect('thrower').lastError!;
    expect(info).toEqual({
      code: 'PLUGD_E_ACTIVATION',
      message: 'plugin "thrower": activate() threw: no database',
      cause: { name: 'Error', message: 'no database' },
    });
  });

  it('no message of a failed call or activation carries a code, and no error is its own cause', async () => {
    const sup = await supervisor({ callTimeoutMs: 200 });
    await sup.install(
      await workerBundle(
        'calls',
        `export default {
      activate: () => ({ Implements: ['Greeter'] }),
      methods: { 'Greeter.Fail': () => { throw new Error('failed on purpose'); }, 'Greeter.Slow': () => new Promise(() => {}) },
    };`,
      ),
    );
    await sup.enable('calls');
    const client = await sup.get('calls', 'Greeter');
    const errors = await Promise.all(
      [
        client.call('Greeter.Fail'),
        client.call('Greeter.Nope'),
        client.call('Greeter.Slow'),
        client.call('Greeter.Fail', { f: () => 1 }),
      ].map((p) =>
        p.then(
          () => null,
          (e: unknown) => e as PlugdError,
        ),
      ),
    );
    expect(errors.map((e) => e?.code)).toEqual(['PLUGD_E_PLUGIN_ERROR', 'PLUGD_E_METHOD', 'PLUGD_E_CALL_TIMEOUT', 'PLUGD_E_CALL']);
    for (const error of errors) {
      expect(error!.message).not.toMatch(/PLUGD_E_/);
      for (let cause = error!.cause as Error | undefined; cause; cause = cause.cause as Error | undefined) {
        expect(cause).not.toBe(error);
        expect(cause.message).not.toBe(error!.message);
      }
    }
  });

  it('a required manifest key that is absent is refused as missing', () => {
    const valid = { name: 'hello', version: '1.0.0', kind: 'worker', entrypoint: 'index.mjs', interface: { types: ['Greeter'] } };
    for (const key of ['name', 'version', 'kind', 'interface', 'entrypoint'] as const) {
      const { [key]: _, ...without } = valid;
      const error = refusal(() => parseManifest(without));
      expect(error).toMatchObject({ code: 'PLUGD_E_MANIFEST', details: { field: key } });
      expect(error.message).toContain('is missing');
    }
    expect(refusal(() => parseManifest({ ...valid, interface: {} }))).toMatchObject({
      details: { field: 'interface.types' },
      message: expect.stringContaining('is missing'),
    });
    const { entrypoint: _, ...processBase } = valid;
    expect(refusal(() => parseManifest({ ...processBase, kind: 'process' }))).toMatchObject({
      details: { field: 'exec' },
      message: expect.stringContaining('is missing'),
    });
    // A value that is there and wrong still says which rule it breaks.
    expect(refusal(() => parseManifest({ ...valid, version: 'one' })).message).toContain('semver');
  });
});
