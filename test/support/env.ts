/** Where the real services of the test machine are (override with TEST_* variables). */
export const testServices = {
  /** A role that may create and drop databases; each test file gets its own database. */
  postgresAdminUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  amqpUrl: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
}

/** A port nothing listens on (the discard port): connections to it are refused at once. */
export const closedPort = 9
