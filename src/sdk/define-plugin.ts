// Types for plugin authors. A plugin needs no import of plugd at all; definePlugin() only adds
// type checking to the default export described in the README.
import type { Logger } from 'pino';

/** What a plugin's activate() and methods receive. */
export interface PluginContext<Env extends Record<string, string> = Record<string, string>> {
  name: string;
  id: string;
  /** The instance number: a restart makes a new instance. */
  instance: number;
  /** Only the manifest's env, the user's settings and the granted host variables. */
  env: Readonly<Partial<Env>>;
  args: string[];
  /**
   * The plugin's own folder for files, `<root>/data/<id>/`: set with "isolation": "process" only,
   * where it is the one place the plugin may write.
   */
  dataDir?: string;
  /** A pino logger tagged { plugin, instance }; console.* is captured into it too. */
  log: Logger;
}

/** Docker's Plugin.Activate answer. */
export interface ActivateAnswer {
  Implements: string[];
}

export type PluginMethod<Env extends Record<string, string>> = (args: any, ctx: PluginContext<Env>) => unknown;

export interface PluginDefinition<Env extends Record<string, string> = Record<string, string>> {
  activate?(ctx: PluginContext<Env>): ActivateAnswer | Promise<ActivateAnswer>;
  methods?: Record<string, PluginMethod<Env>>;
  deactivate?(ctx: PluginContext<Env>): void | Promise<void>;
}

/**
 * Declares a worker plugin with types. Returns its argument unchanged.
 *
 * @example
 * export default definePlugin({
 *   activate: () => ({ Implements: ['Greeter'] }),
 *   methods: { 'Greeter.Hello': async ({ name }, ctx) => ({ greeting: `${ctx.env.GREETING} ${name}` }) },
 * });
 */
export function definePlugin<Env extends Record<string, string> = Record<string, string>>(
  definition: PluginDefinition<Env>,
): PluginDefinition<Env> {
  return definition;
}
