import type { Request, RequestHandler } from 'express'

export interface RateLimitOptions {
  /** A further identity to count each request against, e.g. `account:<email>` for a login. */
  also?: (req: Request) => string | undefined
}

/**
 * Named rate-limit policies for routes, e.g. `limits.limit('auth', …)` on login. Without the
 * rate-limit recipe this is `noRateLimits` and nothing is limited.
 */
export interface RateLimits {
  /** Middleware counting each request against `policy` for its caller (user, else client IP). */
  limit(policy: string, options?: RateLimitOptions): RequestHandler
}

export const noRateLimits: RateLimits = {
  limit: () =>
    function notLimited(_req, _res, next) {
      next()
    },
}
