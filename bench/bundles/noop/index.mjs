// The benchmark plugin, loaded by plugd and by the raw baseline alike.
export default {
  activate: () => ({ Implements: ['Bench'] }),
  methods: {
    'Bench.Echo': (args) => args,
    'Bench.Spin': () => {
      for (;;) {
        /* block the event loop until the watchdog ends this instance */
      }
    },
  },
};
