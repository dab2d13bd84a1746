// `plugd daemon`: a standalone supervisor serving the control socket, like dockerd for plugins.
import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import { contextOf } from '../context.js';

async function logger(pretty: boolean): Promise<Logger> {
  if (!pretty) return pino({ name: 'plugd' }, pino.destination({ fd: 2, sync: true }));
  const { default: prettyStream } = await import('pino-pretty');
  return pino({ name: 'plugd' }, prettyStream({ destination: 2, sync: true }));
}

export function registerDaemon(program: Command): void {
  program
    .command('daemon')
    .description('run a supervisor on --root that serves the control socket; restores enabled plugins; stops them on SIGTERM/SIGINT')
    .option('--pretty', 'readable logs instead of JSON lines')
    .action(async (opts: { pretty?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      const log = await logger(opts.pretty === true);
      // Loaded here: the other commands are clients and start faster without the runtime.
      const { createSupervisor } = await import('../../supervisor.js');
      const sup = await createSupervisor({ root: ctx.root, logger: log, control: { socket: ctx.socket } });
      for (const problem of sup.problems) log.warn({ file: problem.file, code: problem.error.code }, 'skipped a record of the store');
      // Ready once the restored plugins have settled their first activation (running, or failed and logged).
      const { running, failed } = await sup.restored();
      if (running.length + failed.length > 0)
        log.info({ running, failed: failed.map((f) => f.name) }, `restored ${running.length} plugins, ${failed.length} failed`);
      log.info({ root: sup.root, socket: sup.controlAddress }, 'plugd daemon ready');
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          log.info({ signal }, 'stopping the plugins');
          resolve();
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      await sup.close();
      log.info('plugd daemon stopped');
    });
}
