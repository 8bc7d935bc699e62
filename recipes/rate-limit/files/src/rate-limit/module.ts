import { z } from 'zod'
import type { RateLimits } from '../lib/rate-limits.js'
import { defineModule, requireService } from '../module.js'
import { callerIdentity } from './identity.js'
import { RateLimiter, type RateLimitPolicy } from './limiter.js'
import { rateLimit } from './middleware.js'
import { SlidingWindow } from './sliding-window.js'

const count = z.coerce.number().int().positive()

/** A reset announcement: `{policy, identities}` or `{policy, match}`; anything else resets all. */
function parseReset(message: string): { policy?: string; identities?: string[] } {
  try {
    const { policy, identities } = JSON.parse(message) as { policy?: unknown; identities?: unknown }
    return {
      ...(typeof policy === 'string' ? { policy } : {}),
      ...(Array.isArray(identities) && identities.every((i) => typeof i === 'string')
        ? { identities }
        : {}),
    }
  } catch {
    return {}
  }
}

export const rateLimitEnv = z.object({
  RATE_LIMIT_MAX: count.default(100),
  RATE_LIMIT_WINDOW_S: count.default(60),
  AUTH_RATE_LIMIT_MAX: count.default(10),
  AUTH_RATE_LIMIT_WINDOW_S: count.default(900),
  RATE_LIMIT_ON_STORE_ERROR: z.enum(['open', 'closed']).default('open'),
})

/**
 * Rate limits: policy `default` on every /api request (per user when signed in, else per client
 * IP) and `auth` for the routes that ask for it (login and register: per client and per account
 * named; closed when Redis is unreachable, since it guards passwords). Routes use other policies
 * through `services.limits`. The policies are published to Redis (`<prefix>rl-policies`) so
 * `backendkit ratelimit` shows limits without reading this configuration.
 */
export const rateLimiting = defineModule({
  name: 'rate-limit',
  env: rateLimitEnv,
  async init({ env, services, logger }) {
    const redis = requireService(services, 'redis', 'rate-limit')
    const window = new SlidingWindow(redis.client)
    const policies: RateLimitPolicy[] = [
      {
        name: 'default',
        limit: env.RATE_LIMIT_MAX,
        windowSeconds: env.RATE_LIMIT_WINDOW_S,
        onStoreError: env.RATE_LIMIT_ON_STORE_ERROR,
      },
      {
        name: 'auth',
        limit: env.AUTH_RATE_LIMIT_MAX,
        windowSeconds: env.AUTH_RATE_LIMIT_WINDOW_S,
        onStoreError: 'closed',
      },
    ]
    const limiters = new Map(
      policies.map((policy) => [
        policy.name,
        new RateLimiter(
          policy,
          window,
          (identity) => redis.key('rl', policy.name, identity),
          logger,
        ),
      ]),
    )
    const limits: RateLimits = {
      limit(policy, options = {}) {
        const limiter = limiters.get(policy)
        if (!limiter)
          throw new Error(
            `no rate-limit policy "${policy}" (known: ${[...limiters.keys()].join(', ')})`,
          )
        return rateLimit({
          limiter,
          identities: (req) => {
            const also = options.also?.(req)
            return also ? [callerIdentity(req), also] : [callerIdentity(req)]
          },
        })
      },
    }
    // Every (re)connection publishes them: Redis may have been down at start, or flushed.
    const publish = () =>
      redis.client
        .hset(
          redis.key('rl-policies'),
          Object.fromEntries(
            policies.map((p) => [p.name, JSON.stringify({ q: p.limit, w: p.windowSeconds })]),
          ),
        )
        .catch((error: unknown) =>
          logger.warn({ err: error }, 'could not publish the rate-limit policies'),
        )
    redis.client.on('ready', publish)
    if (redis.ready) await publish()
    // `backendkit ratelimit reset` deletes the keys and announces it here: every instance then
    // drops its local state for them (token buckets, refusals held until the old reset).
    const resets = redis.connect('subscriber')
    const resetChannel = redis.key('rl-reset')
    resets.on('message', (channel: string, message: string) => {
      if (channel !== resetChannel) return
      const reset = parseReset(message)
      for (const limiter of limiters.values()) {
        if (reset.policy && reset.policy !== limiter.policy.name) continue
        limiter.forgetLocal(reset.identities)
      }
      logger.info({ reset }, 'rate limits reset by an operator')
    })
    resets.subscribe(resetChannel).catch((error: unknown) => {
      logger.warn({ err: error }, 'cannot hear rate-limit resets')
    })
    return {
      services: { limits },
      middleware: [{ slot: 'rate-limit', path: '/api', handler: limits.limit('default') }],
      stop: async () => {
        redis.client.off('ready', publish)
      },
    }
  },
})
