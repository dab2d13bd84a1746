// Answers once, then blocks its event loop forever on the next call (a busy loop).
let calls = 0;
export default {
  activate: () => ({ Implements: ['Clock'] }),
  methods: {
    'Clock.Now': () => {
      calls += 1;
      if (calls === 2)
        for (;;) {
          /* a bug: spins forever */
        }
      return { now: Date.now() };
    },
  },
};
