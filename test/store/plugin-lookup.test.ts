import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PluginEntries } from '../../src/runtime/plugin-entries.js';
import { readBundleManifest } from '../../src/store/manifest.js';
import { Store, type PluginRecord } from '../../src/store/store.js';
import { FIXTURES, onCleanup, tempDir } from '../helpers.js';

// Two IDs that share their first 16 characters, and a third that does not.
const SHARED = 'abcdef0123456789';
const ID_A = `${SHARED}${'a'.repeat(48)}`;
const ID_B = `${SHARED}${'b'.repeat(48)}`;
const ID_C = `${'c'.repeat(64)}`;

async function recordOf(name: string, id: string): Promise<PluginRecord> {
  const manifest = { ...(await readBundleManifest(path.join(FIXTURES, 'greeter'))), name };
  return { id, manifest, settings: { enabled: false, env: [], grantedEnv: [] }, bundleDir: path.join(FIXTURES, 'greeter') };
}

/** A real store on disk holding records with the IDs given. */
async function storeWith(records: PluginRecord[]): Promise<Store> {
  const { store } = await Store.open(path.join(await tempDir(), 'store'));
  onCleanup(() => store.close());
  for (const r of records) await store.add(r.id, r.manifest, r.bundleDir, r.settings);
  return store;
}

/** The runtime's registry: `installed` from the store, `discovered` in memory only. */
async function entriesWith(installed: PluginRecord[], discovered: PluginRecord[]): Promise<PluginEntries> {
  const entries = new PluginEntries();
  for (const r of installed) entries.add(r, 'installed');
  for (const r of discovered) entries.add(r, 'discovered');
  return entries;
}

const named = (p: { name?: string; manifest?: { name: string } } | undefined) => p?.name ?? p?.manifest?.name;

describe('finding a plugin by name, ID or ID prefix', () => {
  const registries = {
    'the store': async (records: PluginRecord[]) => {
      const store = await storeWith(records);
      return { find: (s: string) => named(store.find(s)), resolve: (s: string) => named(store.resolve(s)) };
    },
    'installed and discovered entries': async (records: PluginRecord[]) => {
      // The first record is discovered, the others installed: lookups cross the two.
      const entries = await entriesWith(records.slice(1), records.slice(0, 1));
      return { find: (s: string) => named(entries.find(s)), resolve: (s: string) => named(entries.resolve(s)) };
    },
  };

  for (const [where, make] of Object.entries(registries)) {
    describe(`in ${where}`, () => {
      it('finds by name, by full ID and by a 12+ character prefix only one ID has', async () => {
        const r = await make([await recordOf('alpha', ID_A), await recordOf('gamma', ID_C)]);
        expect(r.resolve('alpha')).toBe('alpha');
        expect(r.resolve(ID_C)).toBe('gamma');
        expect(r.resolve(ID_A.slice(0, 12))).toBe('alpha');
        expect(r.resolve(ID_C.slice(0, 20))).toBe('gamma');
      });

      it('refuses an ID prefix two plugins share with PLUGD_E_NOT_FOUND naming both', async () => {
        const r = await make([await recordOf('alpha', ID_A), await recordOf('beta', ID_B), await recordOf('gamma', ID_C)]);
        expect(r.find(SHARED)).toBeUndefined();
        expect(() => r.resolve(SHARED)).toThrow(
          expect.objectContaining({ code: 'PLUGD_E_NOT_FOUND', details: { ambiguous: expect.arrayContaining(['alpha', 'beta']) } }),
        );
        // One more character tells them apart.
        expect(r.resolve(`${SHARED}b`)).toBe('beta');
      });

      it('refuses a missing name, an unknown ID, a prefix under 12 characters and an empty name', async () => {
        const r = await make([await recordOf('alpha', ID_A), await recordOf('gamma', ID_C)]);
        for (const missing of ['delta', 'f'.repeat(64), ID_A.slice(0, 11)]) {
          expect(r.find(missing), missing).toBeUndefined();
          expect(() => r.resolve(missing), missing).toThrow(expect.objectContaining({ code: 'PLUGD_E_NOT_FOUND' }));
        }
        expect(() => r.resolve('')).toThrow(expect.objectContaining({ code: 'PLUGD_E_OPTION', details: { option: 'name' } }));
      });
    });
  }

  it('prefers a name over an ID prefix, and an installed plugin over a discovered one of the same name', async () => {
    // A plugin named like another's ID prefix: the name wins, as in Docker.
    const entries = await entriesWith([await recordOf(SHARED, ID_C), await recordOf('alpha', ID_A)], [await recordOf('alpha', ID_B)]);
    expect(entries.resolve(SHARED).id).toBe(ID_C);
    expect(entries.resolve('alpha')).toMatchObject({ id: ID_A, origin: 'installed' });
    expect(entries.resolve(ID_B)).toMatchObject({ name: 'alpha', origin: 'discovered' });
  });
});
