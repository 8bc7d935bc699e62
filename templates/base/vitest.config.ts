import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests talk to real PostgreSQL / Redis / RabbitMQ: give them room, but never hang.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
