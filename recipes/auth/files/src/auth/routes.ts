import { parseCookie } from 'cookie'
import { type CookieOptions, type Request, type Response, Router } from 'express'
import { z } from 'zod'
import { UnauthorizedError } from '../lib/errors.js'
import type { RateLimits } from '../lib/rate-limits.js'
import { validate } from '../middleware/validate.js'
import { requireAuth } from './middleware.js'
import type { AuthService, Session } from './service.js'

export const REFRESH_COOKIE = 'refresh_token'

export const email = z.email().max(254)
export const username = z
  .string()
  .min(3)
  .max(32)
  .regex(/^[a-zA-Z0-9_.-]+$/, 'letters, digits, ".", "_" and "-" only')
export const password = z.string().min(8).max(128)

// Strict: a client can never choose its role (or id) at registration.
export const registerBody = z.strictObject({ email, username, password })
export const loginBody = z.strictObject({
  email: z.string().max(254),
  password: z.string().max(128),
})

export interface AuthRoutesOptions {
  auth: AuthService
  limits: RateLimits
  refreshTtlMs: number
  secureCookie: boolean
}

/** The account a login or registration names, so guessing is limited per account too. */
function accountOf(req: Request): string | undefined {
  const value: unknown = req.body?.email
  if (typeof value !== 'string' || value.length > 254) return undefined
  return `account:${value.trim().toLowerCase()}`
}

/** /api/auth: HTTP only; the rules live in AuthService. */
export function authRoutes(options: AuthRoutesOptions): Router {
  const { auth, limits } = options
  const cookie: CookieOptions = {
    httpOnly: true,
    secure: options.secureCookie,
    sameSite: 'strict',
    // Sent only to the auth endpoints: the refresh token never travels with API calls.
    path: '/api/auth',
  }
  const refreshTokenOf = (req: Request) => {
    const header = req.headers.cookie
    return header ? parseCookie(header)[REFRESH_COOKIE] : undefined
  }
  /** Token responses must never be stored by a cache (RFC 6749 §5.1). */
  const sendSession = (res: Response, session: Session) => {
    res.cookie(REFRESH_COOKIE, session.refreshToken, { ...cookie, maxAge: options.refreshTtlMs })
    res.set('Cache-Control', 'no-store').json({ accessToken: session.accessToken })
  }
  // Password guessing and account probing: limited per client and per account named.
  const guard = limits.limit('auth', { also: accountOf })

  const router = Router()

  router.post('/register', guard, validate({ body: registerBody }), async (req, res) => {
    res.status(201).json(await auth.register(req.body))
  })

  router.post('/login', guard, validate({ body: loginBody }), async (req, res) => {
    sendSession(res, await auth.login(req.body))
  })

  router.post('/refresh', async (req, res) => {
    const presented = refreshTokenOf(req)
    if (!presented) {
      throw new UnauthorizedError('No refresh token', { code: 'INVALID_REFRESH_TOKEN' })
    }
    try {
      sendSession(res, await auth.refresh(presented))
    } catch (error) {
      if (error instanceof UnauthorizedError) res.clearCookie(REFRESH_COOKIE, cookie)
      throw error
    }
  })

  router.post('/logout', async (req, res) => {
    const presented = refreshTokenOf(req)
    if (presented) await auth.logout(presented)
    res.clearCookie(REFRESH_COOKIE, cookie)
    res.status(204).end()
  })

  router.post('/logout-all', requireAuth, async (req, res) => {
    await auth.logoutEverywhere((req.user as Express.User).id)
    res.clearCookie(REFRESH_COOKIE, cookie)
    res.status(204).end()
  })

  return router
}
