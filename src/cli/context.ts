// What every command gets from the global options: the root, where the daemon answers (socket or
// --url), --json, the API client, and the errors that set the exit code.
import path from 'node:path';
import type { Command } from 'commander';
import { defaultSocket } from '../control/control-options.js';
import { ApiClient } from './api-client.js';
import { describe, resolveEndpoint, type Endpoint, type EndpointOptions } from './endpoint.js';

export { UsageError } from './usage-error.js';

export interface CliContext {
  root: string;
  endpoint: Endpoint;
  /** The socket path or URL, for messages. */
  address: string;
  json: boolean;
  api: ApiClient;
}

/** The global options as commander parsed them. */
export type GlobalOptions = EndpointOptions & { root?: string; json?: boolean };

export function globalsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

/** --root, else $PLUGD_ROOT, else ./.plugd. */
export function rootOf(opts: GlobalOptions): string {
  return path.resolve(opts.root ?? process.env.PLUGD_ROOT ?? '.plugd');
}

export function contextOf(command: Command): CliContext {
  const opts = globalsOf(command);
  const root = rootOf(opts);
  const endpoint = resolveEndpoint(opts, defaultSocket(root), process.env, root);
  return { root, endpoint, address: describe(endpoint), json: opts.json === true, api: new ApiClient(endpoint) };
}

/** `encodeURIComponent` for a path segment. */
export const seg = encodeURIComponent;
