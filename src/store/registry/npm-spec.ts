// `npm:` specs: which install arguments name a registry package, and what they name.
import npa from 'npm-package-arg';
import { PlugdError } from '../../errors.js';

export const NPM_PREFIX = 'npm:';

/** A registry package spec: a name and a version, range or dist-tag. */
export interface NpmSpec {
  /** As the caller wrote it, `npm:` included. */
  raw: string;
  name: string;
  /** The version, range or tag (`*`, npm's "latest", if none was given). */
  range: string;
}

export function isNpmSpec(arg: unknown): arg is string {
  return typeof arg === 'string' && arg.startsWith(NPM_PREFIX);
}

/** Parses `npm:name@range` (npm-package-arg's rules); refuses git, file and URL specs. */
export function parseNpmSpec(raw: string): NpmSpec {
  let parsed: npa.Result;
  try {
    parsed = npa(raw.slice(NPM_PREFIX.length));
  } catch (e) {
    throw new PlugdError(
      'PLUGD_E_OPTION',
      `"${raw}" is not a package spec (npm:name, npm:name@1.2.3, npm:@scope/name@^1.2): ${(e as Error).message}`,
      { cause: e, details: { option: 'spec' } },
    );
  }
  if (!parsed.registry || !parsed.name || parsed.type === 'alias') {
    throw new PlugdError(
      'PLUGD_E_OPTION',
      `"${raw}" does not name a registry package (expected npm:name@version, range or tag; it parses as ${parsed.type})`,
      { details: { option: 'spec' } },
    );
  }
  return { raw, name: parsed.name, range: parsed.fetchSpec || '*' };
}
