// Mutated plugin.json texts from a seeded generator: values of the wrong type, paths out of the
// bundle, unknown and forbidden keys, broken JSON. Each case is one text; the same seed gives the
// same cases.
import type { Prng } from './prng.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const WORKER_BASE = {
  name: 'fuzzed',
  version: '1.0.0',
  description: 'a fuzzed plugin',
  kind: 'worker',
  entrypoint: 'index.mjs',
  interface: { types: ['Greeter'] },
  env: [
    { name: 'GREETING', value: 'hello', settable: true },
    { name: 'FIXED', value: 'fixed', settable: false },
  ],
  args: ['--flag'],
  permissions: { env: ['HOME'] },
  restart: { policy: 'on-failure', maxRetries: 3 },
  requires: ['other'],
};

export const PROCESS_BASE = {
  name: 'fuzzed-proc',
  version: '1.0.0',
  kind: 'process',
  exec: ['node', 'main.mjs'],
  workdir: '.',
  interface: { types: ['Family'], socket: 'plugin.sock' },
  args: [],
  restart: 'no',
};

const STRINGS = [
  '',
  ' ',
  '..',
  '../x',
  '../../etc/passwd',
  '/etc/passwd',
  './index.mjs',
  'index.mjs',
  'main.mjs',
  'node',
  './main.mjs',
  'a'.repeat(300),
  'x\u0000y',
  '名前',
  '${HOME}',
  'on-failure:3',
  'on-failure:-1',
  'on-failure:x',
  'always',
  'no',
  'unless-stopped',
  'worker',
  'process',
  'external',
  'Greeter',
  'PATH',
  'HOME',
  '1.0.0',
  '1.0',
  'v1.0.0',
  '1.0.0-rc.1+b',
  'scope/name',
  'UPPER',
  '-lead',
  'a/b/c',
  'plugin.sock',
  'sub/plugin.sock',
  '__proto__',
  'constructor',
  '\\..\\x',
  'index.mjs\n',
  'KEY=VALUE',
];
const KEYS = [
  'name',
  'version',
  'description',
  'kind',
  'entrypoint',
  'exec',
  'workdir',
  'interface',
  'types',
  'socket',
  'env',
  'value',
  'settable',
  'args',
  'permissions',
  'restart',
  'policy',
  'maxRetries',
  'requires',
  'extra',
  '__proto__',
  'constructor',
  'prototype',
];

function randomValue(random: Prng, depth = 0): Json {
  switch (random.int(depth > 2 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, -1, 1, 1.5, 2 ** 53, -0, 1e300]);
    case 3:
    case 4:
    case 5:
      return random.pick(STRINGS);
    case 6:
      return Array.from({ length: random.int(4) }, () => randomValue(random, depth + 1));
    case 7:
      return Object.fromEntries(Array.from({ length: random.int(3) }, () => [random.pick(KEYS), randomValue(random, depth + 1)]));
    default:
      return [random.pick(STRINGS)];
  }
}

/** Every path of containers and leaves in `value`, as key lists. */
function paths(value: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (at.length > 0) out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

function parentOf(root: Json, at: (string | number)[]): { parent: Record<string, Json> | Json[]; key: string | number } {
  let node = root as Record<string, Json>;
  for (const key of at.slice(0, -1)) node = node[key as string] as Record<string, Json>;
  return { parent: node, key: at[at.length - 1]! };
}

function mutateTree(random: Prng, root: Record<string, Json>): void {
  const all = paths(root);
  const at = random.pick(all);
  const { parent, key } = parentOf(root, at);
  const p = parent as Record<string, Json>;
  switch (random.int(6)) {
    case 0: // delete
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete p[key as string];
      break;
    case 1:
    case 2: // replace with anything
      p[key as string] = randomValue(random);
      break;
    case 3: {
      // change a string a little
      const v = p[key as string];
      if (typeof v === 'string') {
        const i = random.int(v.length + 1);
        p[key as string] = random.chance(0.5)
          ? v.slice(0, i) + random.pick(['/', '..', '\u0000', ' ', 'A', '-', '.', ':', '\\']) + v.slice(i)
          : v.slice(0, i);
      } else p[key as string] = randomValue(random);
      break;
    }
    case 4: // add a key, known or not, next to this one
      if (!Array.isArray(parent)) p[random.pick(KEYS)] = randomValue(random);
      else parent.push(randomValue(random));
      break;
    default: // duplicate an array element or empty a container
      if (Array.isArray(parent) && parent.length > 0) parent.push(parent[0]!);
      else root[random.pick(Object.keys(root))] = random.chance(0.5) ? [] : {};
  }
}

function mutateText(random: Prng, text: string): string {
  const i = random.int(text.length);
  switch (random.int(8)) {
    case 0:
      return text.slice(0, i); // truncated
    case 1:
      return text.slice(0, i) + String.fromCharCode(random.int(128)) + text.slice(i + 1); // a byte flipped
    case 2:
      return `\uFEFF${text}`; // a byte order mark
    case 3:
      return text.replace('{', `{"name": ${JSON.stringify(random.pick(STRINGS))}, `); // a key given twice
    case 4:
      return text.replace('{', `{"__proto__": {"polluted": true}, `);
    case 5:
      return text.replace('{', `{"restart": {"__proto__": {"policy": "always"}}, `);
    case 6:
      return `${'['.repeat(5_000)}${']'.repeat(5_000)}`; // deep nesting
    default:
      return `${text}${random.pick(['', '}', ',', ' garbage', '\u0000'])}`;
  }
}

/** One mutated manifest for `base`: a text to write as plugin.json. */
export function mutatedManifest(random: Prng, base: object): string {
  const tree = structuredClone(base) as Record<string, Json>;
  const rounds = 1 + random.int(3);
  for (let i = 0; i < rounds; i++) mutateTree(random, tree);
  const text = JSON.stringify(tree, null, random.chance(0.5) ? 2 : undefined);
  return random.chance(0.2) ? mutateText(random, text) : text;
}
