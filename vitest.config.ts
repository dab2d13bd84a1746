import { defineConfig } from 'vitest/config';

// Tests start real worker threads and child processes: the forks pool keeps each
// test file in its own process so a misbehaving fixture cannot take others down.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    maxWorkers: 2,
  },
});
