// `plugd version` and `plugd completion`.
import type { Command } from 'commander';
import { plugdVersion } from '../../control/version.js';
import { NoDaemonError } from '../api-client.js';
import { contextOf, UsageError } from '../context.js';
import { print, printJson } from '../output.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('the versions of this command and of the daemon, if one answers')
    .action(async (_opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      let daemon: { version: string; api: string; node: string; pid: number; root: string } | null = null;
      try {
        daemon = await ctx.api.request('GET', '/v1/version');
      } catch (e) {
        if (!(e instanceof NoDaemonError)) throw e;
      }
      const client = { version: plugdVersion(), node: process.version };
      if (ctx.json) return printJson({ client, daemon });
      print(`client: plugd ${client.version} (node ${client.node})`);
      print(
        daemon
          ? `daemon: plugd ${daemon.version} (api ${daemon.api}, node ${daemon.node}, pid ${daemon.pid}, root ${daemon.root})`
          : `daemon: none on ${ctx.address}`,
      );
    });

  program
    .command('completion')
    .description('a shell completion script: eval "$(plugd completion bash)"')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      const commands = program.commands
        .map((c) => c.name())
        .filter((n) => n !== 'help')
        .join(' ');
      const options = program.options
        .map((o) => o.long)
        .filter(Boolean)
        .join(' ');
      if (shell === 'bash') {
        print(`_plugd() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${commands} ${options}" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -F _plugd plugd`);
      } else if (shell === 'zsh') {
        print(`#compdef plugd
_plugd() {
  if (( CURRENT == 2 )); then compadd ${commands} ${options}; else _files; fi
}
compdef _plugd plugd`);
      } else {
        throw new UsageError(`completion supports bash and zsh, not "${shell}"`);
      }
    });
}
