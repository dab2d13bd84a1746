// Hostile bundles, as archives and as folders: entries that climb out, absolute paths, links
// out, hard links, devices, GNU sparse and unknown typeflags, a huge entry count, a size bomb, a
// plugin.json that is a link to /etc/passwd. Each is refused with PLUGD_E_BUNDLE or
// PLUGD_E_MANIFEST, the store (and everything around it) untouched, and no error quotes a
// linked file.
import { execFileSync } from 'node:child_process';
import { access, link, lstat, mkdir, readdir, readFile, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPlugdError, type Supervisor } from '../../../src/index.js';
import { supervisor, tempDir } from '../../helpers.js';
import { figure, isOpen, SIZES, type KnownOpen } from './campaign.js';
import { pax, writeTgz, type TarEntry } from './tar-writer.js';

const MANIFEST = JSON.stringify({
  name: 'hostile',
  version: '1.0.0',
  kind: 'worker',
  entrypoint: 'index.mjs',
  interface: { types: ['Greeter'] },
});
const INDEX = 'export default { activate: () => ({ Implements: ["Greeter"] }), methods: {} };\n';
const BASE: TarEntry[] = [
  { path: 'plugin.json', data: MANIFEST },
  { path: 'index.mjs', data: INDEX },
];
const PASSWD_LINES = (await readFile('/etc/passwd', 'utf8')).split('\n').filter((l) => l.length >= 8);

/** Every file and folder under `dir` with its size: equal before and after a refused install. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(at: string): Promise<void> {
    for (const name of (await readdir(at)).sort()) {
      const full = path.join(at, name);
      const info = await lstat(full);
      out.push(`${path.relative(dir, full)} ${info.isDirectory() ? 'dir' : info.size}`);
      if (info.isDirectory()) await walk(full);
    }
  }
  await walk(dir);
  return out;
}

/** Messages of an error and its causes, for the check that nothing read through a link is quoted. */
function messages(e: unknown): string {
  const parts: string[] = [];
  for (let at = e; at instanceof Error && parts.length < 10; at = at.cause)
    parts.push(at.message, String((at as { details?: unknown }).details ? JSON.stringify((at as { details?: unknown }).details) : ''));
  return parts.join('\n');
}

interface Case {
  name: string;
  defect?: KnownOpen;
  /** Builds the bundle (an archive or a folder) in `work`; `outside` is a folder beside the store. */
  build: (work: string, outside: string) => Promise<string>;
  /** For a folder that may install: what the installed copy must satisfy instead of a refusal. */
  orInstalls?: (sup: Supervisor, id: string, source: string) => Promise<void>;
}

const tgz = (entries: TarEntry[]) => async (work: string) => {
  const file = path.join(work, 'hostile.tgz');
  await writeTgz(file, entries);
  return file;
};

async function folder(work: string, shape: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(work, 'bundle');
  await mkdir(dir);
  await writeFile(path.join(dir, 'plugin.json'), MANIFEST);
  await writeFile(path.join(dir, 'index.mjs'), INDEX);
  await shape(dir);
  return dir;
}

/** An installed bundle depends on nothing outside the store: every link resolves inside it. */
async function selfContained(sup: Supervisor, id: string, source: string): Promise<void> {
  const installed = path.join(sup.root, 'plugins', id, 'bundle');
  const inside = await realpath(installed);
  async function walk(dir: string): Promise<void> {
    for (const name of await readdir(dir)) {
      const full = path.join(dir, name);
      const info = await lstat(full);
      if (info.isSymbolicLink()) {
        const target = await realpath(full);
        expect(target.startsWith(inside + path.sep), `${name} -> ${await readlink(full)}`).toBe(true);
      } else if (info.isDirectory()) await walk(full);
      else if (info.isFile()) expect(info.nlink, `${name} is a hard link`).toBe(1);
    }
  }
  await walk(installed);
  await rm(source, { recursive: true, force: true });
  await expect(access(path.join(installed, 'alias.mjs'))).resolves.toBeUndefined();
}

const CASES: Case[] = [
  // Archives.
  { name: 'an archive entry that climbs out with ..', build: tgz([...BASE, { path: '../escape.txt', data: 'x' }]) },
  { name: 'an archive entry that climbs out from a folder', build: tgz([...BASE, { path: 'lib/../../../escape.txt', data: 'x' }]) },
  {
    name: 'an archive entry with an absolute path',
    build: async (work, outside) => tgz([...BASE, { path: path.join(outside, 'absolute.txt'), data: 'x' }])(work),
  },
  {
    name: 'an archive symlink to a folder above, then a file written through it',
    build: tgz([...BASE, { path: 'up', type: '2', linkname: '../..' }, { path: 'up/escape.txt', data: 'x' }]),
  },
  { name: 'an archive symlink to /etc/passwd', build: tgz([...BASE, { path: 'passwd', type: '2', linkname: '/etc/passwd' }]) },
  {
    name: 'an archive symlink to an absolute folder, then a file written through it',
    build: async (work, outside) =>
      tgz([...BASE, { path: 'out', type: '2', linkname: outside }, { path: 'out/escape.txt', data: 'x' }])(work),
  },
  { name: 'an archive hard link to /etc/passwd', build: tgz([...BASE, { path: 'hard', type: '1', linkname: '/etc/passwd' }]) },
  { name: 'an archive hard link that climbs out', build: tgz([...BASE, { path: 'hard', type: '1', linkname: '../../plugins.json' }]) },
  { name: 'an archive hard link to a file of its own', build: tgz([...BASE, { path: 'hard', type: '1', linkname: 'index.mjs' }]) },
  { name: 'an archive character device', build: tgz([...BASE, { path: 'null', type: '3', devmajor: 1, devminor: 3 }]) },
  { name: 'an archive block device', build: tgz([...BASE, { path: 'disk', type: '4', devmajor: 8, devminor: 0 }]) },
  { name: 'an archive fifo', build: tgz([...BASE, { path: 'pipe', type: '6' }]) },
  {
    name: 'an archive pax header whose path climbs out',
    build: tgz([...BASE, pax({ path: '../../escape.txt' }), { path: 'innocent.txt', data: 'x' }]),
  },
  {
    name: 'an archive pax header whose linkpath is /etc/passwd',
    build: tgz([...BASE, pax({ linkpath: '/etc/passwd' }), { path: 'innocent', type: '2', linkname: 'index.mjs' }]),
  },
  {
    name: 'an archive GNU long name that climbs out',
    build: tgz([
      ...BASE,
      { path: '././@LongLink', type: 'L', data: `${'a/'.repeat(60)}${'../'.repeat(64)}escape.txt\0`, gnu: true },
      { path: 'short.txt', data: 'x', gnu: true },
    ]),
  },
  {
    name: 'an archive plugin.json that is a symlink to /etc/passwd',
    build: tgz([
      { path: 'plugin.json', type: '2', linkname: '/etc/passwd' },
      { path: 'index.mjs', data: INDEX },
    ]),
  },
  {
    name: 'an archive entrypoint that is a symlink to /etc/passwd',
    build: tgz([
      { path: 'plugin.json', data: MANIFEST },
      { path: 'index.mjs', type: '2', linkname: '/etc/passwd' },
    ]),
  },
  { name: 'an archive GNU sparse entry', build: tgz([...BASE, { path: 'lib/data.bin', type: 'S', data: 'sparse data', gnu: true }]) },
  {
    name: 'an archive entry of an unknown typeflag',
    build: tgz([...BASE, { path: 'lib/extra.mjs', type: 'Z', data: 'export const x = 1;\n' }]),
  },
  {
    name: 'an archive contiguous-file entry (typeflag 7) that climbs out',
    build: tgz([...BASE, { path: 'lib/../../c.txt', type: '7', data: 'x' }]),
  },
  {
    name: `an archive of ${SIZES.hugeEntries} empty files`,
    build: tgz([...BASE, ...Array.from({ length: SIZES.hugeEntries }, (_, i) => ({ path: `many/${i}`, data: '' }))]),
  },
  { name: 'an archive that unpacks to more than 512 MiB', build: tgz([...BASE, { path: 'bomb.bin', zeros: 520 * 1024 * 1024 }]) },
  {
    name: 'a file that is not an archive',
    build: async (work) => {
      const f = path.join(work, 'junk.tgz');
      await writeFile(f, 'not a tar');
      return f;
    },
  },
  // Folders.
  {
    name: 'a folder whose plugin.json is a symlink to /etc/passwd',
    build: (work) =>
      folder(work, async (dir) => {
        await rm(path.join(dir, 'plugin.json'));
        await symlink('/etc/passwd', path.join(dir, 'plugin.json'));
      }),
  },
  {
    name: 'a folder whose plugin.json is a symlink to a valid manifest outside it',
    build: async (work, outside) => {
      await writeFile(path.join(outside, 'plugin.json'), MANIFEST);
      return folder(work, async (dir) => {
        await rm(path.join(dir, 'plugin.json'));
        await symlink(path.join(outside, 'plugin.json'), path.join(dir, 'plugin.json'));
      });
    },
  },
  {
    name: 'a folder whose entrypoint is a symlink to /etc/passwd',
    build: (work) =>
      folder(work, async (dir) => {
        await rm(path.join(dir, 'index.mjs'));
        await symlink('/etc/passwd', path.join(dir, 'index.mjs'));
      }),
  },
  {
    name: 'a folder whose entrypoint climbs out through a relative symlink',
    build: async (work, outside) => {
      await writeFile(path.join(outside, 'evil.mjs'), INDEX);
      return folder(work, async (dir) => {
        await rm(path.join(dir, 'index.mjs'));
        await symlink(path.relative(dir, path.join(outside, 'evil.mjs')), path.join(dir, 'index.mjs'));
      });
    },
  },
  { name: 'a folder holding a symlink to /etc', build: (work) => folder(work, (dir) => symlink('/etc', path.join(dir, 'etc'))) },
  {
    name: 'a folder holding a dangling symlink',
    build: (work) => folder(work, (dir) => symlink('/nonexistent/plugd', path.join(dir, 'dangling'))),
  },
  {
    name: 'a folder holding an absolute symlink to a file of its own',
    build: (work) => folder(work, (dir) => symlink(path.join(dir, 'index.mjs'), path.join(dir, 'alias.mjs'))),
    orInstalls: selfContained,
  },
  {
    name: 'a folder holding a fifo',
    build: (work) =>
      folder(work, async (dir) => {
        execFileSync('mkfifo', [path.join(dir, 'pipe')]);
      }),
  },
  {
    name: 'a folder holding a hard link to a file outside it',
    build: async (work, outside) => {
      await writeFile(path.join(outside, 'shared.txt'), 'shared');
      return folder(work, (dir) => link(path.join(outside, 'shared.txt'), path.join(dir, 'shared.txt')));
    },
    orInstalls: async (sup, id) => {
      const copy = path.join(sup.root, 'plugins', id, 'bundle', 'shared.txt');
      expect((await stat(copy)).nlink).toBe(1);
    },
  },
];
if (process.getuid?.() === 0) {
  CASES.push({
    name: 'a folder holding a character device',
    build: (work) =>
      folder(work, async (dir) => {
        execFileSync('mknod', [path.join(dir, 'null'), 'c', '1', '3']);
      }),
  });
}

const tally = { cases: 0, refused: 0, installedSafely: 0, codes: {} as Record<string, number> };
afterAll(() => figure('hostile', tally));

describe('hostile bundles', () => {
  for (const c of CASES) {
    it.skipIf(c.defect !== undefined && isOpen(c.defect))(
      `refuses ${c.name}${c.orInstalls ? ' (or installs a self-contained copy)' : ''}`,
      async () => {
        const around = await tempDir('plugd-hostile-');
        const root = path.join(around, 'store');
        const outside = path.join(around, 'outside');
        await mkdir(outside);
        const sup = await supervisor({ root });
        const work = await tempDir('plugd-hostile-work-');
        const source = await c.build(work, outside);
        const before = await tree(around);
        tally.cases++;
        let id: string | undefined;
        let error: unknown;
        try {
          id = (await sup.install(source)).id;
        } catch (e) {
          error = e;
        }
        const code = id ? 'installed' : isPlugdError(error) ? error.code : String(error);
        tally.codes[code] = (tally.codes[code] ?? 0) + 1;
        if (id && c.orInstalls) {
          await c.orInstalls(sup, id, source);
          tally.installedSafely++;
          return;
        }
        expect(code, messages(error)).toMatch(/^PLUGD_E_(BUNDLE|MANIFEST)$/);
        tally.refused++;
        expect(await tree(around)).toEqual(before);
        const said = messages(error);
        for (const line of PASSWD_LINES) expect(said).not.toContain(line);
        expect(said).not.toMatch(/root:x?:0:0/);
      },
      120_000,
    );
  }
});
