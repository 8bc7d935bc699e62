import { z } from 'zod'
import { defineModule, requireService } from '../module.js'
import { httpCaching } from './http-caching.js'
import { RedisCache } from './redis-cache.js'

export const cacheEnv = z.object({
  CACHE_ENABLED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
})

/**
 * The Redis cache behind `services.cache` (every module that caches gets it), and HTTP caching
 * (ETag, 304, Cache-Control) for /api reads.
 */
export const cache = defineModule({
  name: 'cache',
  env: cacheEnv,
  init({ env, services, logger }) {
    const redis = requireService(services, 'redis', 'cache')
    const middleware = [{ slot: 'cache' as const, path: '/api', handler: httpCaching() }]
    if (!env.CACHE_ENABLED) return { middleware }
    const redisCache = new RedisCache(redis, logger)
    return {
      services: { cache: redisCache },
      middleware,
      stop: () => redisCache.close(),
    }
  },
})
