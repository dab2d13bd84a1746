// `plugd inspector`: serves the web inspector on 127.0.0.1 for the daemon (or control-serving host)
// on --root/--socket (or --url), prints its URL with the one-time token, and runs until SIGINT/SIGTERM.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { startInspector, type Inspector } from '../../inspector/index.js';
import { NoDaemonError } from '../api-client.js';
import { contextOf, UsageError } from '../context.js';
import { note, print, printJson } from '../output.js';

function port(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new UsageError(`a port is a whole number from 0 to 65535, got "${value}"`);
  return Number(value);
}

/** Opens `url` in the desktop's browser; a failure only leaves the URL printed. */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => note(`could not run ${command}: open the URL yourself`));
  child.unref();
}

function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export function registerInspector(program: Command): void {
  program
    .command('inspector')
    .description('serve the web inspector (lifecycle charts, events, logs, actions) on 127.0.0.1')
    .option('--port <port>', "the page's port on 127.0.0.1 (0: any free port)", port, 7777)
    .option('--open', 'open the page in the browser')
    .option(
      '--listen <port>',
      "also show any XState app that sends to ws://127.0.0.1:<port> with @statelyai/inspect's createWebSocketInspector",
      port,
    )
    .action(async (opts: { port: number; open?: boolean; listen?: number }, command: Command) => {
      const ctx = contextOf(command);
      let inspector: Inspector;
      try {
        inspector = await startInspector({
          socket: ctx.endpoint,
          port: opts.port,
          ...(opts.listen === undefined ? {} : { listen: opts.listen }),
        });
      } catch (e) {
        if (!(e instanceof NoDaemonError) || opts.listen === undefined) throw e;
        note(`${e.message}; showing only the apps that send to --listen`);
        inspector = await startInspector({ socket: null, port: opts.port, listen: opts.listen });
      }
      if (ctx.json) printJson({ url: inspector.url, port: inspector.port, listen: inspector.listenPort });
      else {
        print(`plugd inspector: ${inspector.url}`);
        if (inspector.listenPort !== null)
          print(`XState apps: createWebSocketInspector({ url: 'ws://127.0.0.1:${inspector.listenPort}' })`);
      }
      if (opts.open) openBrowser(inspector.url);
      await untilStopped();
      await inspector.close();
    });
}
