// `plugd ls` and `plugd inspect`: from the daemon, or from the store on disk when none runs.
import type { Command } from 'commander';
import type { PluginInfo } from '../../runtime/plugin-info.js';
import { NoDaemonError, RefusedError } from '../api-client.js';
import { contextOf, seg, type CliContext } from '../context.js';
import { findPlugin, readPlugins, storeExists, type OfflinePlugin } from '../offline-store.js';
import { cut, duration, note, print, printJson, table } from '../output.js';
import { stateLabel } from '../../runtime/state-label.js';

/** The store on disk, when no daemon answers: said on stderr, plugins shown as not running. */
export async function offline(ctx: CliContext, e: unknown): Promise<OfflinePlugin[]> {
  if (!(e instanceof NoDaemonError) || !(await storeExists(ctx.root))) throw e;
  note(`no daemon answers on ${ctx.address}: read from the store at ${ctx.root}; the plugins are not running`);
  return readPlugins(ctx.root);
}

function row(p: PluginInfo | OfflinePlugin): string[] {
  return [
    p.name,
    p.id.slice(0, 12),
    p.version,
    p.kind,
    stateLabel(p),
    p.enabled ? 'yes' : 'no',
    String(p.restarts),
    duration(p.instance?.uptimeMs),
    p.lastError ? cut(`${p.lastError.code}: ${p.lastError.message}`, 60) : '-',
  ];
}

export function registerLs(program: Command): void {
  program
    .command('ls')
    .alias('list')
    .description('list installed plugins: name, ID, version, kind, state, enabled, restarts, uptime, last error')
    .option('--capability <name>', 'only plugins implementing this capability')
    .option('--enabled', 'only enabled plugins')
    .action(async (opts: { capability?: string; enabled?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      const query = new URLSearchParams();
      if (opts.capability) query.set('capability', opts.capability);
      if (opts.enabled) query.set('enabled', '1');
      let plugins: (PluginInfo | OfflinePlugin)[];
      try {
        plugins = await ctx.api.request<PluginInfo[]>('GET', `/v1/plugins${query.size > 0 ? `?${query}` : ''}`);
      } catch (e) {
        plugins = (await offline(ctx, e))
          .filter((p) => !opts.enabled || p.enabled)
          .filter((p) => !opts.capability || p.implements.includes(opts.capability));
      }
      if (ctx.json) return printJson(plugins);
      print(table(['NAME', 'ID', 'VERSION', 'KIND', 'STATE', 'ENABLED', 'RESTARTS', 'UPTIME', 'LAST ERROR'], plugins.map(row)));
    });

  program
    .command('inspect')
    .description('show everything known of plugins (JSON): state, last exit, next restart, restart window, permissions')
    .argument('<name...>', 'plugin names or IDs')
    .action(async (names: string[], _opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      const found: unknown[] = [];
      let failed: RefusedError | null = null;
      let stored: OfflinePlugin[] | null = null;
      for (const name of names) {
        try {
          if (stored) throw new NoDaemonError(ctx.address, new Error('offline'));
          found.push(await ctx.api.request('GET', `/v1/plugins/${seg(name)}`));
        } catch (e) {
          if (e instanceof RefusedError) {
            failed = e;
            continue;
          }
          stored ??= await offline(ctx, e);
          const plugin = findPlugin(stored, name);
          if (plugin) found.push(plugin);
          else failed = new RefusedError('PLUGD_E_NOT_FOUND', `no installed plugin is named "${name}"`, 404);
        }
      }
      printJson(found);
      if (failed) throw failed;
    });
}
