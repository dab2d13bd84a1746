// The `plugd` command: parses the arguments (commander) and maps outcomes to exit codes:
// 0 done, 1 refused (the error's code and message on stderr), 2 usage, 3 no daemon reachable,
// 130 an install or upgrade interrupted by Ctrl-C.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { PlugdError } from '../errors.js';
import { plugdVersion } from '../control/version.js';
import { NoDaemonError, RefusedError } from './api-client.js';
import { UsageError } from './usage-error.js';
import { registerCall } from './commands/call.js';
import { registerDaemon } from './commands/daemon.js';
import { registerFeeds } from './commands/feeds.js';
import { registerGraph } from './commands/graph.js';
import { registerInspector } from './commands/inspector.js';
import { InterruptedError, registerLifecycle } from './commands/lifecycle.js';
import { registerLs } from './commands/ls.js';
import { registerTop } from './commands/top.js';
import { registerVersion } from './commands/version.js';

export const EXIT = { done: 0, refused: 1, usage: 2, noDaemon: 3, interrupted: 130 } as const;

export function program(): Command {
  const cli = new Command('plugd')
    .description('Operate a plugd supervisor: its plugins, their logs, events and metrics, over its control socket or loopback TCP.')
    .version(plugdVersion(), '-V, --version')
    .option('--root <dir>', 'the store folder (default: $PLUGD_ROOT, else ./.plugd)')
    .option('--socket <path>', 'the control socket (default: <root>/plugd.sock)')
    .option('--url <url>', 'reach a daemon on loopback TCP instead, http://127.0.0.1:PORT (default: $PLUGD_URL unless --socket)')
    .option('--token-file <path>', "a file holding the daemon's bearer token for --url (default: the token in $PLUGD_TOKEN)")
    .option('--json', 'machine-readable output')
    .exitOverride()
    .showHelpAfterError('(run plugd --help for usage)')
    .addHelpText(
      'after',
      '\nEnvironment: PLUGD_ROOT (--root), PLUGD_URL (--url), PLUGD_TOKEN (the token for --url; there is no --token flag,\n' +
        'which would show in ps). A wrong or missing token is refused with PLUGD_E_PERMISSION (exit 1).\n' +
        '\nExit codes: 0 done, 1 refused (code and message on stderr), 2 usage, 3 no daemon reachable,\n' +
        '130 install or upgrade interrupted (Ctrl-C; the daemon cancels it).',
    );
  registerDaemon(cli);
  registerLs(cli);
  registerLifecycle(cli);
  registerFeeds(cli);
  registerCall(cli);
  registerTop(cli);
  registerGraph(cli);
  registerInspector(cli);
  registerVersion(cli);
  return cli;
}

/** Runs the command line; resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return EXIT.done;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and --version end with code 0; parse errors have been printed by commander.
      return e.exitCode === 0 ? EXIT.done : EXIT.usage;
    }
    if (e instanceof UsageError || e instanceof InvalidArgumentError) {
      process.stderr.write(`plugd: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof InterruptedError) {
      process.stderr.write(`plugd: ${e.message}\n`);
      return EXIT.interrupted;
    }
    if (e instanceof NoDaemonError) {
      process.stderr.write(`plugd: ${e.message}\n`);
      return EXIT.noDaemon;
    }
    if (e instanceof RefusedError) {
      process.stderr.write(`${e.code}: ${e.message}\n`);
      return EXIT.refused;
    }
    if (e instanceof PlugdError) {
      process.stderr.write(`${e.code}: ${e.message.replace(`${e.code}: `, '')}\n`);
      return EXIT.refused;
    }
    process.stderr.write(`plugd: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.refused;
  }
}

process.exitCode = await run(process.argv);
