import { configDefaults, defineConfig } from 'vitest/config';

// Tests start real worker threads and child processes: the forks pool keeps each
// test file in its own process so a misbehaving fixture cannot take others down.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // The fault campaign has its own config and script (npm run test:faults).
    exclude: [...configDefaults.exclude, 'test/faults/campaign/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    maxWorkers: 2,
  },
});
