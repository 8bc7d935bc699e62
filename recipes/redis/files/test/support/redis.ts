import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll } from 'vitest'

/** The Redis tests use: TEST_REDIS_URL, else REDIS_URL, else the local one. */
export const testRedisUrl =
  process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

export interface TestRedis {
  /** This file's own key prefix. */
  prefix: string
  /** REDIS_URL and REDIS_KEY_PREFIX for the app. */
  env: { REDIS_URL: string; REDIS_KEY_PREFIX: string }
  /** A client of the test's own, to look at what the app wrote. */
  redis: Redis
}

/**
 * A Redis key prefix of this test file's own (the app gets it as REDIS_KEY_PREFIX), so test files
 * run in parallel against one Redis; every key under it is deleted after the file's tests.
 */
export function useRedisPrefix(): TestRedis {
  const prefix = `test-${Date.now().toString(36)}${randomBytes(4).toString('hex')}:`
  const redis = new Redis(testRedisUrl, { lazyConnect: true })
  afterAll(async () => {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.unlink(...keys)
    } while (cursor !== '0')
    await redis.quit()
  })
  return { prefix, env: { REDIS_URL: testRedisUrl, REDIS_KEY_PREFIX: prefix }, redis }
}
