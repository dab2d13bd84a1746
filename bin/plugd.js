#!/usr/bin/env node
// The `plugd` command. In a checkout (a .git beside bin/) it runs the TypeScript sources through
// tsx, so it never runs a stale build; an installed package runs its build in dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/src/cli/main.js', import.meta.url);
const checkout = existsSync(new URL('../.git', import.meta.url));

async function withTsx() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch {
    return false;
  }
}

if ((checkout || !existsSync(built)) && existsSync(source) && (await withTsx())) {
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write('plugd: no build in dist/ and no tsx to run the sources; run `npm run build` (or `npm ci`) first\n');
  process.exit(2);
}
