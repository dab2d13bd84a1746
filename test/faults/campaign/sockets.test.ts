// Socket modes: every socket and folder plugd makes under the root is 0600 / 0700, and another
// user can connect to none of them.
import { execFileSync } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, supervisor } from '../../helpers.js';
import { figure } from './campaign.js';

const NOBODY = 65_534;

/** Folders and sockets under `root` (not inside bundles, which are the plugin's own files). */
async function madeByPlugd(root: string): Promise<{ rel: string; kind: 'folder' | 'socket'; mode: number }[]> {
  const found: { rel: string; kind: 'folder' | 'socket'; mode: number }[] = [
    { rel: '.', kind: 'folder', mode: (await lstat(root)).mode & 0o777 },
  ];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full);
      if (entry.isSocket()) found.push({ rel, kind: 'socket', mode: (await lstat(full)).mode & 0o777 });
      // A bundle's own folders keep their modes: they sit inside plugins/<id>/ (0700).
      if (entry.isDirectory()) {
        found.push({ rel, kind: 'folder', mode: (await lstat(full)).mode & 0o777 });
        if (entry.name !== 'bundle') await walk(full);
      }
    }
  }
  await walk(root);
  return found;
}

/** What a connect() as the nobody user gets: an errno code, or CONNECTED. */
function connectAsNobody(socket: string): string {
  const probe =
    `require('node:net').connect(${JSON.stringify(socket)})` +
    ".on('connect', () => { console.log('CONNECTED'); process.exit(0); })" +
    ".on('error', (e) => { console.log(e.code); process.exit(0); });";
  return execFileSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '-e', probe])
    .toString()
    .trim();
}

const canDropPrivileges =
  process.getuid?.() === 0 &&
  (() => {
    try {
      execFileSync('setpriv', ['--version']);
      return true;
    } catch {
      return false;
    }
  })();

describe('the sockets and folders under the root', () => {
  it('are 0700 (folders) and 0600 (sockets) while worker and process plugins run', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('proc-family'));
    await sup.install(await bundle('greeter'));
    await sup.enable('proc-family');
    await sup.enable('greeter');
    const entries = await madeByPlugd(sup.root);
    const sockets = entries.filter((e) => e.kind === 'socket');
    const wrong = entries.filter((e) => e.rel.split(path.sep).at(-1) !== 'bundle' && e.mode !== (e.kind === 'socket' ? 0o600 : 0o700));
    figure('sockets', { folders: entries.length - sockets.length, sockets: sockets.length, wrong: wrong.length });
    expect(sockets.map((s) => s.rel).sort()).toEqual([expect.stringMatching(/^run\/[0-9a-f]{12}\/plugin\.sock$/), 'run/logs.sock']);
    expect(wrong.map((e) => `${e.rel} ${e.mode.toString(8)}`)).toEqual([]);
  });

  it.skipIf(!canDropPrivileges)('refuse a connection from another user (EACCES), though the owner connects', async () => {
    const sup = await supervisor();
    await sup.install(await bundle('proc-family'));
    await sup.enable('proc-family');
    const sockets = (await madeByPlugd(sup.root)).filter((e) => e.kind === 'socket').map((e) => path.join(sup.root, e.rel));
    expect(sockets.length).toBe(2);
    for (const socket of sockets) {
      expect(connectAsNobody(socket), socket).toBe('EACCES');
      await new Promise<void>((resolve, reject) => {
        const owner = connect(socket)
          .once('connect', () => {
            owner.destroy();
            resolve();
          })
          .once('error', reject);
      });
    }
  });
});
