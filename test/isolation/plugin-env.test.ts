// Env names are chosen by a plugin's manifest: names of Object.prototype's members are names
// like any other, never a way into the host's objects.
import { describe, expect, it } from 'vitest';
import { pluginEnv } from '../../src/isolation/plugin-env.js';
import type { PluginRecord } from '../../src/store/store.js';

function record(env: { name: string; value: string }[], grantedEnv: string[], settings: string[] = []): PluginRecord {
  return { manifest: { env }, settings: { enabled: false, env: settings, grantedEnv } } as unknown as PluginRecord;
}

describe('the env a plugin sees', () => {
  it("grants no member of the host env object's prototype (constructor, toString) as a variable", () => {
    const env = pluginEnv(record([], ['constructor', 'toString', 'hasOwnProperty', 'GRANTED']), { GRANTED: 'yes' });
    expect({ ...env }).toEqual({ GRANTED: 'yes' });
    expect(Object.values(env).every((v) => typeof v === 'string')).toBe(true);
  });

  it('keeps a variable named __proto__ as a variable', () => {
    const env = pluginEnv(
      record(
        [
          { name: '__proto__', value: 'declared' },
          { name: 'constructor', value: 'c' },
        ],
        [],
        ['constructor=set'],
      ),
      {},
    );
    expect(Object.entries(env)).toEqual([
      ['__proto__', 'declared'],
      ['constructor', 'set'],
    ]);
  });
});
