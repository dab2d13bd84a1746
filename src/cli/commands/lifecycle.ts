// The commands that change a plugin's state: install, enable, disable, restart, rm, set, upgrade.
// They need a daemon (or a host serving control); without one they exit with code 3.
import path from 'node:path';
import type { Command } from 'commander';
import { isNpmSpec } from '../../store/registry/npm-spec.js';
import { contextOf, seg, UsageError, type CliContext } from '../context.js';
import { print, printJson } from '../output.js';

/** Ctrl-C during install or upgrade: the request was ended, so the daemon cancels; exit code 130. */
export class InterruptedError extends Error {}

/** A bundle as the daemon is to read it: `npm:` specs as given, paths made absolute here. */
const bundleArg = (bundle: string): string => (isNpmSpec(bundle) ? bundle : path.resolve(bundle));

/**
 * Runs one install or upgrade request; SIGINT ends it (its socket closes, and the daemon cancels
 * the install: no record, no scratch folder) and rejects with InterruptedError.
 */
async function interruptible<T>(what: 'install' | 'upgrade', request: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const interrupted = new AbortController();
  const onSigint = (): void =>
    interrupted.abort(new InterruptedError(`interrupted: the daemon cancels the ${what} (unless it was already being recorded)`));
  process.once('SIGINT', onSigint);
  try {
    return await request(interrupted.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

async function report(ctx: CliContext, result: unknown, text: string): Promise<void> {
  if (ctx.json) printJson(result ?? null);
  else print(text);
}

interface BundleFlags {
  grantAllPermissions?: boolean;
  allowScripts?: boolean;
}

/** The body of an install or upgrade request. */
function bundleBody(bundle: string, opts: BundleFlags): { path: string; grantPermissions: boolean; allowScripts: boolean } {
  return { path: bundleArg(bundle), grantPermissions: opts.grantAllPermissions === true, allowScripts: opts.allowScripts === true };
}

export function registerLifecycle(program: Command): void {
  program
    .command('install')
    .description('install a bundle (a folder with plugin.json, a .tgz, or npm:name@range); it starts disabled unless --enable')
    .argument('<path>', 'the bundle (Ctrl-C cancels the install: nothing is recorded, exit code 130)')
    .option('--grant-all-permissions', 'grant the host env variables the plugin asks for')
    .option('--allow-scripts', "npm: specs: run the install scripts of the package's dependencies (not run by default)")
    .option('--enable', 'enable it once installed')
    .action(async (bundle: string, opts: BundleFlags & { enable?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      const installed = await interruptible('install', (signal) =>
        ctx.api.request<{ id: string; name: string }>('POST', '/v1/plugins', bundleBody(bundle, opts), signal),
      );
      const enabled = opts.enable ? await ctx.api.request('POST', `/v1/plugins/${seg(installed.name)}/enable`) : null;
      await report(ctx, enabled ?? installed, `${installed.name} ${installed.id}`);
    });

  program
    .command('enable')
    .description('enable a plugin (and those it requires); returns once it runs')
    .argument('<name>')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      await report(ctx, await ctx.api.request('POST', `/v1/plugins/${seg(name)}/enable`), name);
    });

  program
    .command('disable')
    .description('stop a plugin and keep it disabled')
    .argument('<name>')
    .option('-f, --force', 'even while the host has it in use')
    .action(async (name: string, opts: { force?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      await report(ctx, await ctx.api.request('POST', `/v1/plugins/${seg(name)}/disable${opts.force ? '?force=1' : ''}`), name);
    });

  program
    .command('restart')
    .description("stop an enabled plugin's instance and start a new one")
    .argument('<name>')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      await report(ctx, await ctx.api.request('POST', `/v1/plugins/${seg(name)}/restart`), name);
    });

  program
    .command('rm')
    .alias('remove')
    .description('remove a disabled plugin from the store')
    .argument('<name>')
    .option('-f, --force', 'disable it first, even in use or required by others')
    .action(async (name: string, opts: { force?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      await ctx.api.request('DELETE', `/v1/plugins/${seg(name)}${opts.force ? '?force=1' : ''}`);
      await report(ctx, { removed: name }, name);
    });

  program
    .command('set')
    .description('set settable env variables of a disabled plugin')
    .argument('<name>')
    .argument('<settings...>', 'KEY=VALUE pairs')
    .action(async (name: string, settings: string[], _opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      const bad = settings.find((s) => !/^[^=]+=/.test(s));
      if (bad !== undefined) throw new UsageError(`"${bad}" is not KEY=VALUE`);
      await report(ctx, await ctx.api.request('POST', `/v1/plugins/${seg(name)}/set`, { env: settings }), name);
    });

  program
    .command('upgrade')
    .description('replace a disabled plugin with another version of its bundle')
    .argument('<name>')
    .argument('<path>', 'the new bundle, or npm:name@range (Ctrl-C cancels: the installed version stays, exit code 130)')
    .option('--grant-all-permissions', 'grant the host env variables the new version asks for')
    .option('--allow-scripts', "npm: specs: run the install scripts of the package's dependencies (not run by default)")
    .action(async (name: string, bundle: string, opts: BundleFlags, command: Command) => {
      const ctx = contextOf(command);
      const upgraded = await interruptible('upgrade', (signal) =>
        ctx.api.request<{ id: string; name: string; previous: string }>(
          'POST',
          `/v1/plugins/${seg(name)}/upgrade`,
          bundleBody(bundle, opts),
          signal,
        ),
      );
      await report(ctx, upgraded, `${upgraded.name} ${upgraded.id}`);
    });
}
