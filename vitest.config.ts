import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Every file starts its own nats-server and processes; two at a time suits the 2-core CI machine.
    maxWorkers: 2,
    // CI shares a 2-core machine with real servers, browsers and clusters: a test that fails once
    // on timing is run once more there (assertions unchanged); locally every failure shows.
    retry: process.env.CI ? 1 : 0,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
