// Finds a plugin by name, full ID or an unambiguous ID prefix (as Docker does), in whichever
// registry holds it: the store's records, the runtime's entries (installed and discovered), the
// records `plugd` reads from a store on disk. One rule, one set of errors, for all of them.
import { PlugdError } from '../errors.js';

/** The shortest ID prefix that names a plugin (Docker's short IDs are 12 characters). */
export const MIN_ID_PREFIX = 12;

/** What the lookup reads of a plugin, however its registry keeps it. */
export interface Named {
  readonly name: string;
  readonly id: string;
}

/** What a name or ID found: one plugin, several (an ambiguous prefix), or none. */
export type Lookup<T> = { found: T } | { ambiguous: T[] } | { missing: true };

/** A registry as the lookup sees it. */
export interface Registry<T> {
  /** Every plugin, in the registry's order of precedence. */
  list(): Iterable<T>;
  keys(plugin: T): Named;
  /** The registry's own index by name, then by full ID; without one, list() is scanned for both. */
  exact?(nameOrId: string): T | undefined;
}

/**
 * Looks `nameOrId` up in `registry`: a name first, then a full ID, then an ID prefix of
 * MIN_ID_PREFIX or more characters that only one plugin's ID starts with.
 */
export function lookupPlugin<T>(registry: Registry<T>, nameOrId: string): Lookup<T> {
  const exact = registry.exact ? registry.exact(nameOrId) : scan(registry, nameOrId);
  if (exact !== undefined) return { found: exact };
  if (nameOrId.length < MIN_ID_PREFIX) return { missing: true };
  const prefixed = [...registry.list()].filter((p) => registry.keys(p).id.startsWith(nameOrId));
  if (prefixed.length === 1) return { found: prefixed[0]! };
  return prefixed.length > 1 ? { ambiguous: prefixed } : { missing: true };
}

/** The plugin `nameOrId` names, or undefined (none, or an ambiguous prefix). */
export function findPlugin<T>(registry: Registry<T>, nameOrId: string): T | undefined {
  const lookup = lookupPlugin(registry, nameOrId);
  return 'found' in lookup ? lookup.found : undefined;
}

/**
 * The plugin `nameOrId` names. PLUGD_E_OPTION for an empty name; PLUGD_E_NOT_FOUND naming what
 * is installed when none has it, or naming the candidates of an ambiguous ID prefix.
 */
export function resolvePlugin<T>(registry: Registry<T>, nameOrId: string): T {
  if (typeof nameOrId !== 'string' || nameOrId === '') {
    throw new PlugdError('PLUGD_E_OPTION', 'a plugin name or ID is required', { details: { option: 'name' } });
  }
  const lookup = lookupPlugin(registry, nameOrId);
  if ('found' in lookup) return lookup.found;
  const name = (p: T) => registry.keys(p).name;
  if ('ambiguous' in lookup) {
    const candidates = lookup.ambiguous.map(name);
    throw new PlugdError(
      'PLUGD_E_NOT_FOUND',
      `the ID prefix "${nameOrId}" matches ${candidates.length} plugins (${candidates.join(', ')}); give more of the ID, or the name`,
      { details: { ambiguous: candidates } },
    );
  }
  throw new PlugdError(
    'PLUGD_E_NOT_FOUND',
    `no installed plugin is named "${nameOrId}"; installed: ${[...registry.list()].map(name).join(', ') || '(none)'}`,
  );
}

function scan<T>(registry: Registry<T>, nameOrId: string): T | undefined {
  const all = [...registry.list()];
  return all.find((p) => registry.keys(p).name === nameOrId) ?? all.find((p) => registry.keys(p).id === nameOrId);
}
