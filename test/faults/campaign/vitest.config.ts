import { defineConfig } from 'vitest/config';

// One seed for every file of a run, so PLUGD_CAMPAIGN_SEED=<seed> replays the whole run.
const seed = process.env.PLUGD_CAMPAIGN_SEED ?? String(Date.now() % 2 ** 31);

// The fault campaign (npm run test:faults): long-running files, one at a time beside one other,
// with timeouts sized by PLUGD_CAMPAIGN in each file rather than here.
export default defineConfig({
  test: {
    pool: 'forks',
    root: new URL('../../..', import.meta.url).pathname,
    include: ['test/faults/campaign/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    env: { PLUGD_CAMPAIGN_SEED: seed },
  },
});
