// `plugd logs` and `plugd events`: a plugin's log lines and the state events, followed with -f.
import type { Command } from 'commander';
import { parseSince } from '../../control/since.js';
import { NoDaemonError, RefusedError } from '../api-client.js';
import { contextOf, seg, UsageError, type CliContext } from '../context.js';
import { findPlugin } from '../offline-store.js';
import { eventLine, logLine, note, print } from '../output.js';
import { offline } from './ls.js';
import { tailLogFile } from '../offline-store.js';

function printer(ctx: CliContext, human: (line: Record<string, unknown>) => string) {
  return (line: Record<string, unknown>) => {
    if (typeof line.dropped === 'number' && line.plugin === undefined && line.name === undefined) {
      note(`${line.dropped} lines dropped: this reader fell behind`);
      return;
    }
    print(ctx.json ? JSON.stringify(line) : human(line));
  };
}

/** Ends a follow on SIGINT/SIGTERM with exit code 0. */
function untilStopped(): AbortSignal {
  const stop = new AbortController();
  const done = () => stop.abort();
  process.once('SIGINT', done);
  process.once('SIGTERM', done);
  return stop.signal;
}

function checkSince(since: string | undefined): void {
  if (since === undefined) return;
  try {
    parseSince(since);
  } catch {
    throw new UsageError(`--since takes a duration (10m, 2h), an ISO date or epoch milliseconds, got "${since}"`);
  }
}

export function registerFeeds(program: Command): void {
  program
    .command('logs')
    .description("a plugin's log lines (from the store's files when no daemon runs)")
    .argument('<name>')
    .option('-f, --follow', 'keep printing new lines')
    .option(
      '--tail <n>',
      'lines from the end',
      (v) => {
        if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--tail takes a positive whole number, got "${v}"`);
        return Number(v);
      },
      100,
    )
    .option('--since <when>', 'only lines since: a duration (10m), an ISO date or epoch ms')
    .action(async (name: string, opts: { follow?: boolean; tail: number; since?: string }, command: Command) => {
      const ctx = contextOf(command);
      checkSince(opts.since);
      const query = new URLSearchParams({ tail: String(opts.tail) });
      if (opts.since) query.set('since', opts.since);
      if (opts.follow) query.set('follow', '1');
      try {
        await ctx.api.feed(`/v1/plugins/${seg(name)}/logs?${query}`, printer(ctx, logLine), opts.follow ? untilStopped() : undefined);
      } catch (e) {
        if (!(e instanceof NoDaemonError) || opts.follow) throw e;
        const plugin = findPlugin(await offline(ctx, e), name);
        if (!plugin) throw new RefusedError('PLUGD_E_NOT_FOUND', `no installed plugin is named "${name}"`, 404);
        const since = opts.since === undefined ? null : parseSince(opts.since);
        const show = printer(ctx, logLine);
        for (const raw of await tailLogFile(ctx.root, plugin.id, opts.tail)) {
          let line: Record<string, unknown>;
          try {
            line = JSON.parse(raw);
          } catch {
            line = { msg: raw };
          }
          if (since === null || (typeof line.time === 'number' && line.time >= since)) show(line);
        }
      }
    });

  program
    .command('events')
    .description('plugin state changes (the daemon keeps the last 1000)')
    .option('-f, --follow', 'keep printing new events')
    .option('--since <when>', 'only events since: a duration (10m), an ISO date or epoch ms', '0')
    .action(async (opts: { follow?: boolean; since: string }, command: Command) => {
      const ctx = contextOf(command);
      checkSince(opts.since);
      const query = new URLSearchParams({ since: opts.since });
      if (opts.follow) query.set('follow', '1');
      await ctx.api.feed(`/v1/events?${query}`, printer(ctx, eventLine), opts.follow ? untilStopped() : undefined);
    });
}
