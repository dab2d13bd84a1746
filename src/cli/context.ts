// What every command gets from the global options: the root, the socket, --json, the API client,
// and the errors that set the exit code.
import path from 'node:path';
import type { Command } from 'commander';
import { defaultSocket } from '../control/control-options.js';
import { ApiClient } from './api-client.js';

export interface CliContext {
  root: string;
  socket: string;
  json: boolean;
  api: ApiClient;
}

/** A usage mistake the parser could not see (exit code 2). */
export class UsageError extends Error {}

export function contextOf(command: Command): CliContext {
  const opts = command.optsWithGlobals() as { root?: string; socket?: string; json?: boolean };
  const root = path.resolve(opts.root ?? process.env.PLUGD_ROOT ?? '.plugd');
  const socket = path.resolve(opts.socket ?? defaultSocket(root));
  return { root, socket, json: opts.json === true, api: new ApiClient(socket) };
}

/** `encodeURIComponent` for a path segment. */
export const seg = encodeURIComponent;
