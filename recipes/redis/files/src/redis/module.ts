import { z } from 'zod'
import { defineModule } from '../module.js'
import { RedisConnections } from './connections.js'
import { redisErrors } from './errors.js'

declare module '../module.js' {
  interface Services {
    redis: RedisConnections
  }
}

export const redisEnv = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }),
  /** Overrides backendkit.json's `redis.keyPrefix` (e.g. one prefix per test file). */
  REDIS_KEY_PREFIX: z.string().optional(),
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().positive().default(500),
})

/**
 * Redis for the modules after it (`services.redis`): the connections, the key prefix every key
 * the service writes starts with, a readiness check, and `quit` on shutdown.
 */
export const redis = defineModule({
  name: 'redis',
  env: redisEnv,
  async init({ env, conventions, logger }) {
    const connections = new RedisConnections(
      {
        url: env.REDIS_URL,
        keyPrefix: env.REDIS_KEY_PREFIX || conventions.redis.keyPrefix,
        commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
        name: conventions.name,
      },
      logger,
    )
    // A healthy start serves its first requests with Redis; a Redis that is down does not stop
    // the start (readiness says so, and the connection keeps trying).
    await connections.waitUntilReady(2_000)
    return {
      services: { redis: connections },
      readiness: { redis: () => connections.client.ping() },
      mapError: redisErrors,
      stop: () => connections.close(),
    }
  },
})
