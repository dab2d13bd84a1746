// Floods its log from activation on: console.log and its pino logger, thousands of lines a tick.
let timer;
export default {
  activate(ctx) {
    let n = 0;
    timer = setInterval(() => {
      for (let i = 0; i < 5_000; i++) console.log('flood line %d', n++);
    }, 1);
    ctx.log.warn('flood started');
    return { Implements: ['Noise'] };
  },
  deactivate() {
    clearInterval(timer);
  },
};
