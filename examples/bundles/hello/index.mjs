// A well-behaved plugin: no import of plugd is needed.
export default {
  async activate(ctx) {
    ctx.log.info({ greeting: ctx.env.GREETING }, 'hello is ready');
    return { Implements: ['Greeter'] };
  },
  methods: {
    'Greeter.Hello': async ({ name }, ctx) => ({ greeting: `${ctx.env.GREETING} ${name}` }),
  },
  async deactivate(ctx) {
    ctx.log.info('hello says goodbye');
  },
};
