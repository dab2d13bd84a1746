// The formatter keeps code within 140 columns but never splits a string or a comment: this
// check covers what it leaves, so a long message gets split by hand where it is written.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const MAX_COLUMNS = 140;
const ROOT = path.resolve(import.meta.dirname, '..');
const FOLDERS = ['src', 'machines', 'test', 'bench', 'examples', 'scripts'];
const SOURCE = /\.(ts|tsx|mts|mjs|js|cjs)$/;
const SKIPPED = new Set(['node_modules', 'dist', 'results']);

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED.has(entry.name) && !entry.name.startsWith('.')) yield* sources(full);
    } else if (SOURCE.test(entry.name) && !entry.name.includes('.bundle.')) yield full;
  }
}

describe('source files', () => {
  it(`keep every line within ${MAX_COLUMNS} columns`, () => {
    const long: string[] = [];
    for (const folder of FOLDERS) {
      for (const file of sources(path.join(ROOT, folder))) {
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if ([...line].length > MAX_COLUMNS) long.push(`${path.relative(ROOT, file)}:${i + 1} (${[...line].length})`);
          });
      }
    }
    expect(long).toEqual([]);
  });
});
