// Opening a store that a fault left behind: a restore that cannot finish, an index that is lost,
// corrupt, or that omits records. The open must return, and no complete record may be lost.
import { spawn } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundle, onCleanup, supervisor } from '../../helpers.js';
import { figure } from './campaign.js';
import { killMarked, storeDisagreements } from './store-check.js';

const OPEN_HOST = fileURLToPath(new URL('../../fixtures/campaign-open-host.ts', import.meta.url));
const OPEN_BOUND_MS = 20_000;

interface Opened {
  plugins: { name: string; state: string; enabled: boolean }[];
  problems: string[];
}

/** Opens `root` in a child host; 'hung' if it does not report within the bound. */
function openElsewhere(root: string): Promise<Opened | 'hung'> {
  const host = spawn(process.execPath, ['--import', 'tsx', OPEN_HOST, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(() => {
    host.kill('SIGKILL');
    return killMarked(root);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      host.kill('SIGKILL');
    }, OPEN_BOUND_MS);
    host.stdout.setEncoding('utf8');
    host.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    // Resolved once the host has closed the store too, so the test may open it next.
    host.once('exit', (code) => {
      clearTimeout(timer);
      if (hung) resolve('hung');
      else if (code === 0 && out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as Opened);
      else reject(new Error(`open host exited with ${code} before reporting`));
    });
  });
}

/** A closed store holding three installed plugins, two of them enabled. */
async function storeOfThree(): Promise<string> {
  const sup = await supervisor();
  for (const name of ['alpha', 'beta', 'gamma']) await sup.install(await bundle('greeter', { name }));
  await sup.enable('alpha');
  await sup.enable('beta');
  await sup.close();
  return sup.root;
}

describe('an open that restores a plugin whose required plugin keeps failing', () => {
  it('returns within the bound: restore runs after the open, not inside it', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('throw-on-import', { name: 'base', restart: 'always' }));
    await sup.install(await bundle('greeter', { name: 'needy', requires: ['base'] }));
    await sup.close();
    // Both enabled, as a host that enabled needy and was stopped would leave them (an enable
    // here would wait on base as long as the open does).
    for (const id of (await readdir(path.join(sup.root, 'plugins'))).filter((n) => /^[0-9a-f]{64}$/.test(n))) {
      await writeFile(path.join(sup.root, 'plugins', id, 'settings.json'), JSON.stringify({ enabled: true, env: [], grantedEnv: [] }));
    }
    const opened = await openElsewhere(sup.root);
    figure('restore-open', { hung: opened === 'hung' });
    expect(opened).not.toBe('hung');
  }, 60_000);
});

describe('an index that is lost, corrupt or incomplete', () => {
  const cases: { name: string; damage: (root: string) => Promise<void> }[] = [
    { name: 'is missing', damage: (root) => rm(path.join(root, 'plugins.json')) },
    { name: 'is overwritten with garbage', damage: (root) => writeFile(path.join(root, 'plugins.json'), 'not json at all') },
    { name: 'is truncated to nothing', damage: (root) => writeFile(path.join(root, 'plugins.json'), '') },
    {
      name: 'is valid but empty',
      damage: (root) => writeFile(path.join(root, 'plugins.json'), JSON.stringify({ version: 1, plugins: [] })),
    },
    {
      name: 'omits one complete record',
      damage: async (root) => {
        const file = path.join(root, 'plugins.json');
        const index = JSON.parse(await readFile(file, 'utf8')) as { version: 1; plugins: { name: string }[] };
        await writeFile(file, JSON.stringify({ ...index, plugins: index.plugins.filter((p) => p.name !== 'beta') }));
      },
    },
  ];
  for (const c of cases) {
    it(`${c.name}: the records are rebuilt from their folders, the enabled ones restored, the problem reported`, async () => {
      const root = await storeOfThree();
      const folders = (await readdir(path.join(root, 'plugins'))).sort();
      await c.damage(root);
      const opened = await openElsewhere(root);
      expect(opened).not.toBe('hung');
      const { plugins, problems } = opened as Opened;
      figure('lost-index', { case: c.name, kept: plugins.length });
      expect(plugins.map((p) => [p.name, p.enabled, p.state])).toEqual([
        ['alpha', true, 'running'],
        ['beta', true, 'running'],
        ['gamma', false, 'installed'],
      ]);
      expect(problems).toContain('PLUGD_E_STORE');
      expect((await readdir(path.join(root, 'plugins'))).sort()).toEqual(folders);
      // The index is whole again on disk once a supervisor has opened the store.
      const again = await supervisor({ root });
      expect(again.list().map((p) => p.name)).toEqual(['alpha', 'beta', 'gamma']);
      await again.close();
      expect(await storeDisagreements(root)).toEqual([]);
    }, 60_000);
  }
});
