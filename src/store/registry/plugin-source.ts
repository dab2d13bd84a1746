// Where a plugin installed from the registry came from, kept as `source.json` in its record
// folder (no file for a plugin installed from a folder or an archive).
import path from 'node:path';
import { writeJsonAtomic } from '../atomic-file.js';
import { NotPlainFile, readPlainFile } from '../plain-file.js';

export interface PluginSource {
  /** The spec it was installed with (`npm:name@^1.2`): what `upgrade(name)` resolves again. */
  spec: string;
  /** The tarball's URL. */
  resolved: string;
  /** The tarball's SRI integrity (sha512), checked before unpacking. */
  integrity: string;
}

const SOURCE_FILE = 'source.json';
const MAX_SOURCE_BYTES = 64 * 1024;

export function writeSource(recordDir: string, source: PluginSource): Promise<void> {
  return writeJsonAtomic(path.join(recordDir, SOURCE_FILE), source);
}

/** The record's source, or undefined if it has none (or an unreadable one: it is only a hint for upgrades). */
export async function readSource(recordDir: string): Promise<PluginSource | undefined> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readPlainFile(path.join(recordDir, SOURCE_FILE), MAX_SOURCE_BYTES));
  } catch (e) {
    if (e instanceof NotPlainFile || e instanceof SyntaxError) return undefined;
    throw e;
  }
  const s = raw as Partial<PluginSource> | null;
  if (typeof s?.spec !== 'string' || typeof s.resolved !== 'string' || typeof s.integrity !== 'string') return undefined;
  return { spec: s.spec, resolved: s.resolved, integrity: s.integrity };
}
