import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Real services, spawned processes and npm: generous, but a hang still ends.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
