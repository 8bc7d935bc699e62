import type { Request, RequestHandler } from 'express'
import { ServiceUnavailableError, TooManyRequestsError } from '../lib/errors.js'
import type { RateLimiter } from './limiter.js'

export interface RateLimitOptions {
  limiter: RateLimiter
  /** Whom a request counts against: the caller, and e.g. the account a login names. */
  identities(req: Request): string[]
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1_000))

/**
 * Counts each request against its identities under one policy and says so in the IETF headers
 * (draft-ietf-httpapi-ratelimit-headers-11): `RateLimit-Policy: "default";q=100;w=60` and
 * `RateLimit: "default";r=42;t=17`. Over the limit: 429 with Retry-After. A response counted by
 * two policies (login: default and auth) carries both.
 *
 * @example router.post('/login', rateLimit({ limiter, identities: (req) => [ipIdentity(req)] }), …)
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const { limiter } = options
  const { name, limit, windowSeconds, onStoreError } = limiter.policy
  const policyHeader = `"${name}";q=${limit};w=${windowSeconds}`
  return async function rateLimitMiddleware(req, res, next) {
    const decision = await limiter.check(options.identities(req))
    res.append('RateLimit-Policy', policyHeader)
    if (decision.outcome === 'unknown') {
      if (onStoreError === 'open') next()
      else
        next(
          new ServiceUnavailableError('Rate limiting is unavailable; try again shortly', {
            headers: { 'Retry-After': '5' },
          }),
        )
      return
    }
    res.append('RateLimit', `"${name}";r=${decision.remaining};t=${seconds(decision.resetMs)}`)
    if (decision.outcome === 'refused') {
      next(new TooManyRequestsError(seconds(decision.resetMs)))
      return
    }
    next()
  }
}
