import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { syncTree } from '../../src/store/atomic-file.js';
import { tempDir } from '../helpers.js';

describe('syncTree', () => {
  it('goes through nested folders, many files and links (dangling ones too) without opening a link', async () => {
    const dir = await tempDir('plugd-sync-');
    await mkdir(path.join(dir, 'a', 'b', 'c'), { recursive: true });
    for (let i = 0; i < 40; i++) await writeFile(path.join(dir, 'a', `f${i}.txt`), `${i}`);
    await writeFile(path.join(dir, 'a', 'b', 'c', 'deep.txt'), 'deep');
    await symlink('a/f1.txt', path.join(dir, 'link'));
    await symlink('nowhere', path.join(dir, 'dangling'));
    await expect(syncTree(dir)).resolves.toBeUndefined();
    await expect(syncTree(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
