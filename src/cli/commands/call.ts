// `plugd call`: calls a plugin method from a shell, for debugging.
import type { Command } from 'commander';
import { contextOf, seg, UsageError } from '../context.js';
import { printJson } from '../output.js';

export function registerCall(program: Command): void {
  program
    .command('call')
    .description('call a method of a running plugin and print its answer as JSON')
    .argument('<name>')
    .argument('<method>', 'Capability.Method, e.g. Greeter.Hello')
    .argument('[json]', 'the argument, as JSON')
    .option('--timeout <ms>', 'call timeout in milliseconds', (v) => {
      if (!(Number(v) > 0)) throw new UsageError(`--timeout takes milliseconds, got "${v}"`);
      return Number(v);
    })
    .action(async (name: string, method: string, json: string | undefined, opts: { timeout?: number }, command: Command) => {
      const ctx = contextOf(command);
      let args: unknown;
      try {
        args = json === undefined ? undefined : JSON.parse(json);
      } catch {
        throw new UsageError(`the argument is not JSON: ${json}`);
      }
      const body = { method, ...(args === undefined ? {} : { args }), ...(opts.timeout ? { timeoutMs: opts.timeout } : {}) };
      const { result } = await ctx.api.request<{ result: unknown }>('POST', `/v1/plugins/${seg(name)}/call`, body);
      printJson(result);
    });
}
