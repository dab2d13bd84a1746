// Docker's managed (v2) plugins, which `docker plugin enable` starts: each serves its socket at
// `<plugins dir>/<plugin id>/<socket>`, named by its ID. Their names come from the Engine API
// (GET /plugins); without an engine that answers, a plugin is known by its ID.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { engineClient } from './engine.js';
import { NAME_PATTERN } from '../store/manifest.js';

/** A managed plugin's folder is named by its ID: 64 hex digits. */
export const PLUGIN_ID = /^[0-9a-f]{64}$/;
/** How long discovery waits for the engine's answer before it falls back to IDs. */
const ENGINE_WAIT_MS = 2_000;

/** The sockets in `<dir>/<id>/`, one folder per enabled managed plugin. */
export async function managedSockets(dir: string): Promise<{ id: string; file: string }[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: { id: string; file: string }[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !PLUGIN_ID.test(entry.name)) continue;
    const inside = await readdir(path.join(dir, entry.name), { withFileTypes: true }).catch(() => []);
    for (const file of inside) {
      if (file.isSocket() && file.name.endsWith('.sock')) found.push({ id: entry.name, file: path.join(dir, entry.name, file.name) });
    }
  }
  return found;
}

/**
 * Plugin IDs to names, as the engine knows them (`vendor/name:latest` becomes `vendor/name`,
 * another tag `vendor/name-tag`); empty when no engine answers in time.
 */
export async function managedPluginNames(): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  try {
    const engine = await engineClient();
    const plugins = await Promise.race([
      engine.listPlugins(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer')), ENGINE_WAIT_MS);
      }),
    ]);
    for (const plugin of plugins) {
      const name = pluginName(plugin.Name);
      if (plugin.Id && name) names.set(plugin.Id, name);
    }
  } catch {
    // No engine, or one that does not answer: the plugins keep their IDs as names.
  } finally {
    clearTimeout(timer);
  }
  return names;
}

function pluginName(reference: string): string | null {
  const name = reference
    .toLowerCase()
    .replace(/:latest$/, '')
    .replace(/:([^/:]+)$/, '-$1');
  return NAME_PATTERN.test(name) ? name : null;
}
