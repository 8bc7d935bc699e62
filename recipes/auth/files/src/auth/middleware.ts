import type { RequestHandler } from 'express'
import { ForbiddenError, UnauthorizedError } from '../lib/errors.js'
import type { AccessTokens } from './access-tokens.js'
import type { Role } from './schema.js'

declare global {
  namespace Express {
    interface Request {
      /** The authenticated caller, set by requireAuth(). */
      user?: { id: string; role: Role }
    }
  }
}

const challenge = { 'WWW-Authenticate': 'Bearer error="invalid_token"' }

/**
 * Accepts only a valid access token in `Authorization: Bearer …`; anything else is a 401.
 *
 * @example router.post('/', requireAuth, handler)
 */
export function requireAuth(tokens: AccessTokens): RequestHandler {
  return async function requireAuthMiddleware(req, _res, next) {
    const header = req.headers.authorization ?? ''
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header)
    if (!match?.[1]) {
      next(
        new UnauthorizedError('Authentication required', {
          headers: { 'WWW-Authenticate': 'Bearer' },
        }),
      )
      return
    }
    try {
      const claims = await tokens.verify(match[1])
      req.user = { id: claims.userId, role: claims.role }
      next()
    } catch {
      next(new UnauthorizedError('Invalid or expired access token', { headers: challenge }))
    }
  }
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
export function canModify(user: { id: string; role: Role } | undefined, ownerId: string): boolean {
  return user !== undefined && (user.role === 'admin' || user.id === ownerId)
}
