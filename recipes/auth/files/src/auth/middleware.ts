import type { RequestHandler } from 'express'
import { ForbiddenError, UnauthorizedError } from '../lib/errors.js'
import type { Role } from './schema.js'
import { type AuthService, InvalidTokenError } from './service.js'

declare global {
  namespace Express {
    interface Request {
      /** A bearer token was sent but is not (or no longer) valid; `user` stays unset. */
      invalidToken?: boolean
    }
  }
}

const bearer = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/

/**
 * Who is calling: sets `req.user` for a request carrying a valid access token, so everything
 * after it (per-user rate limits, caching, routes) can see the caller. It never refuses: routes
 * decide with `requireAuth`. A response to a request carrying credentials is `no-store` unless a
 * later step deliberately marks it cacheable (private).
 *
 * @example app.use(authContext(authService))
 */
export function authContext(auth: AuthService): RequestHandler {
  return async function authContextMiddleware(req, res, next) {
    const header = req.headers.authorization
    if (header === undefined) {
      next()
      return
    }
    res.setHeader('Cache-Control', 'no-store')
    const token = bearer.exec(header)?.[1]
    try {
      if (!token) throw new InvalidTokenError()
      req.user = await auth.authenticate(token)
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) {
        next(error) // the database cannot be reached: a 503, not an anonymous request
        return
      }
      req.invalidToken = true
    }
    next()
  }
}

/**
 * 401 unless the caller is authenticated (see authContext).
 *
 * @example router.post('/', requireAuth, handler)
 */
export const requireAuth: RequestHandler = function requireAuthMiddleware(req, _res, next) {
  if (req.user) next()
  else if (req.invalidToken) next(new InvalidTokenError())
  else
    next(
      new UnauthorizedError('Authentication required', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      }),
    )
}

/**
 * Lets through only callers with one of `roles` (after requireAuth): 403 otherwise.
 *
 * @example router.delete('/:id', requireAuth, requireRole('admin'), handler)
 */
export function requireRole(...roles: Role[]): RequestHandler {
  return function requireRoleMiddleware(req, _res, next) {
    if (!req.user) {
      next(new UnauthorizedError())
      return
    }
    if (!roles.includes(req.user.role)) {
      next(new ForbiddenError('You do not have permission to do this'))
      return
    }
    next()
  }
}

/** Object-level authorization: the owner of a resource, or an admin. */
export function canModify(user: Express.User | undefined, ownerId: string): boolean {
  return user !== undefined && (user.role === 'admin' || user.id === ownerId)
}
