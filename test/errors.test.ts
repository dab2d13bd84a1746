import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, fromInfo, PlugdError } from '../src/errors.js';

const TESTS = fileURLToPath(new URL('.', import.meta.url));

async function testSources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map(async (e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : testSources(full);
    return e.name.endsWith('.test.ts') && e.name !== 'errors.test.ts' ? [await readFile(full, 'utf8')] : [];
  }));
  return nested.flat();
}

describe('error codes', () => {
  it('are each expected by some test (as avvio counts its codes)', async () => {
    const sources = (await testSources(TESTS)).join('\n');
    const unexercised = Object.keys(ErrorCodes).filter((code) => !sources.includes(`'${code}'`));
    expect(unexercised).toEqual([]);
  });

  it('carry the code in the message, and survive a round trip through their plain form', () => {
    const error = new PlugdError('PLUGD_E_PLUGIN_HUNG', 'plugin "x" hung');
    expect(error.message).toBe('PLUGD_E_PLUGIN_HUNG: plugin "x" hung');
    const again = fromInfo(error.toInfo());
    expect(again).toBeInstanceOf(PlugdError);
    expect(again.code).toBe('PLUGD_E_PLUGIN_HUNG');
    expect(again.message).toBe(error.message);
  });
});
