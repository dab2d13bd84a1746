// A greeter published to npm: its manifest is the "plugd" field of its package.json.
export default {
  async activate(ctx) {
    ctx.log.info({ greeting: ctx.env.GREETING }, 'hello-npm is ready');
    return { Implements: ['Greeter'] };
  },
  methods: {
    'Greeter.Hello': async ({ name }, ctx) => ({ greeting: `${ctx.env.GREETING} ${name}`, from: 'npm' }),
  },
};
