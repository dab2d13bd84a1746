// `plugd daemon`: a standalone supervisor serving the control socket (or loopback TCP behind a
// bearer token), like dockerd for plugins.
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import { resolveControl, type ControlOption } from '../../control/control-options.js';
import { PlugdError } from '../../errors.js';
import { writeFileAtomic } from '../../store/atomic-file.js';
import { globalsOf, rootOf, UsageError } from '../context.js';
import { readToken, TOKEN_FILE, URL_FILE, type Token } from '../endpoint.js';

const CONNECTING = `
Connecting:
  By default the daemon serves <root>/plugd.sock (mode 0600): \`plugd --root <root> ls\` finds it.
  With --listen 127.0.0.1:PORT it serves loopback TCP instead, behind a bearer token taken from
  --token-file or $PLUGD_TOKEN; without either it generates one and writes it to <root>/${TOKEN_FILE}
  (mode 0600, new at each start). It writes its URL to <root>/${URL_FILE}, so \`plugd --root <root> ls\`
  finds it there, with the generated token if this user can read it. From elsewhere, or with a
  token of your own, give the URL and the token (never on the command line):
    plugd --url http://127.0.0.1:PORT --token-file <root>/${TOKEN_FILE} ls
    PLUGD_URL=http://127.0.0.1:PORT PLUGD_TOKEN="$(cat <root>/${TOKEN_FILE})" plugd ls`;

async function logger(pretty: boolean): Promise<Logger> {
  if (!pretty) return pino({ name: 'plugd' }, pino.destination({ fd: 2, sync: true }));
  const { default: prettyStream } = await import('pino-pretty');
  return pino({ name: 'plugd' }, prettyStream({ destination: 2, sync: true }));
}

interface Listen {
  host: string;
  port: number;
}

/** `127.0.0.1:7070`, `[::1]:7070`, `localhost:0`; whether the host is loopback is the library's check. */
function parseListen(value: string): Listen {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  if (!match || Number(match[3]) > 65_535)
    throw new UsageError(`--listen takes HOST:PORT on loopback (127.0.0.1:7070, [::1]:7070; port 0: any free one), got "${value}"`);
  return { host: match[1] ?? match[2]!, port: Number(match[3]) };
}

/** The control option the daemon serves, its token, and whether it generated that token. */
interface Serving {
  control: ControlOption;
  token: Token | null;
  generated: boolean;
}

function serving(command: Command, listen: Listen | undefined, root: string): Serving {
  const opts = globalsOf(command);
  if (opts.url !== undefined) throw new UsageError('--url is for the clients of a daemon; the daemon listens with --listen HOST:PORT');
  if (listen === undefined) {
    if (opts.tokenFile !== undefined) throw new UsageError('--token-file goes with --listen: the socket needs no token');
    return { control: opts.socket === undefined ? true : { socket: path.resolve(opts.socket) }, token: null, generated: false };
  }
  if (opts.socket !== undefined) throw new UsageError('--listen and --socket name two places to serve: give one of them');
  const given = readToken(opts);
  if (opts.tokenFile !== undefined) refuseReadableByAll(path.resolve(opts.tokenFile));
  const token = given ?? { value: randomBytes(32).toString('base64url'), from: path.join(root, TOKEN_FILE) };
  const control = { ...listen, token: token.value };
  try {
    resolveControl(control, root); // checked before the store is opened
    return { control, token, generated: given === null };
  } catch (e) {
    const option = (e as PlugdError).details?.option;
    if (!(e instanceof PlugdError) || (option !== 'control.host' && option !== 'control.token')) throw e;
    const message =
      option === 'control.host'
        ? `--listen must be a loopback address (127.0.0.1, [::1] or localhost), got "${listen.host}": ` +
          'the control API is never exposed beyond this machine'
        : `the token from ${token.from} has ${token.value.length} characters; a bearer token needs at least 16`;
    throw new PlugdError('PLUGD_E_OPTION', message, { cause: e, details: { option: option === 'control.host' ? '--listen' : token.from } });
  }
}

/** A token every user of the machine can read guards nothing: refused, as ssh refuses such a key. */
function refuseReadableByAll(file: string): void {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o004) === 0) return;
  throw new PlugdError(
    'PLUGD_E_OPTION',
    `the token file ${file} is readable by every user (mode ${mode.toString(8).padStart(4, '0')}): chmod o-r it, or 0600`,
    { details: { option: '--token-file' } },
  );
}

export function registerDaemon(program: Command): void {
  program
    .command('daemon')
    .description(
      'run a supervisor on --root that serves the control socket (or loopback TCP with --listen); restores enabled plugins; ' +
        'stops them on SIGTERM/SIGINT',
    )
    .option('--pretty', 'readable logs instead of JSON lines')
    .option('--listen <host:port>', 'serve loopback TCP behind a bearer token instead of the socket (port 0: any free one)', parseListen)
    .addHelpText('after', CONNECTING)
    .action(async (opts: { pretty?: boolean; listen?: Listen }, command: Command) => {
      const root = rootOf(globalsOf(command));
      const { control, token, generated } = serving(command, opts.listen, root);
      const log = await logger(opts.pretty === true);
      // Listened for from the start: a signal sent right after the ready line must stop the daemon, not kill it.
      const stopped = new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          log.info({ signal }, 'stopping the plugins');
          resolve();
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      // Loaded here: the other commands are clients and start faster without the runtime.
      const { createSupervisor } = await import('../../supervisor.js');
      const sup = await createSupervisor({ root, logger: log, control });
      // Written once the store is ours: a second daemon on this root fails above and leaves the first one's files alone.
      const tokenFile = generated ? path.join(root, TOKEN_FILE) : null;
      const urlFile = path.join(root, URL_FILE);
      const url = opts.listen === undefined ? null : `http://${sup.controlAddress}`;
      try {
        if (tokenFile !== null) await writeFileAtomic(tokenFile, `${token!.value}\n`);
        // Clients of this root go where the daemon listens: its URL, or (no file: opening the store removed any) its socket.
        if (url !== null) await writeFileAtomic(urlFile, `${url}\n`, 0o644);
      } catch (e) {
        await sup.close();
        throw e;
      }
      for (const problem of sup.problems) log.warn({ file: problem.file, code: problem.error.code }, 'skipped a record of the store');
      // Ready once the restored plugins have settled their first activation (running, or failed and logged).
      const { running, failed } = await sup.restored();
      if (running.length + failed.length > 0)
        log.info({ running, failed: failed.map((f) => f.name) }, `restored ${running.length} plugins, ${failed.length} failed`);
      if (url === null) log.info({ root: sup.root, socket: sup.controlAddress }, 'plugd daemon ready');
      else {
        const hint = tokenFile !== null ? `--token-file ${tokenFile}` : `the token of ${token!.from}`;
        log.info({ root: sup.root, url, tokenFile }, `plugd daemon ready: connect with plugd --url ${url} and ${hint}`);
      }
      await stopped;
      await sup.close();
      // A generated token dies with its daemon; the next start makes another.
      if (tokenFile !== null) await rm(tokenFile, { force: true });
      if (url !== null) await rm(urlFile, { force: true });
      log.info('plugd daemon stopped');
    });
}
