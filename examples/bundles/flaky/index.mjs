// Crashes (an uncaught error) on every third call.
let calls = 0;
export default {
  activate: () => ({ Implements: ['Counter'] }),
  methods: {
    'Counter.Next': () => {
      calls += 1;
      if (calls % 3 === 0)
        setTimeout(() => {
          throw new Error(`flaky: crashed on call ${calls}`);
        });
      return { calls };
    },
  },
};
