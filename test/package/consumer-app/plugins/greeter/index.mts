// A worker plugin written as the README shows, typed with definePlugin from 'plugd'.
import { definePlugin } from 'plugd';

interface Env extends Record<string, string> {
  GREETING: string;
  EDITION: string;
}

export default definePlugin<Env>({
  activate(ctx) {
    ctx.log.info({ instance: ctx.instance }, `${ctx.name} activating`);
    return { Implements: ['Greeter'] };
  },
  methods: {
    'Greeter.Hello': async (args: { name: string }, ctx) => {
      ctx.log.info({ who: args.name }, 'greeting');
      return { greeting: `${ctx.env.GREETING ?? '?'} ${args.name}`, edition: ctx.env.EDITION ?? '?' };
    },
  },
  deactivate(ctx) {
    ctx.log.info('bye');
  },
});
