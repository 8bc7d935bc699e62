import { parseCookie } from 'cookie'
import { type CookieOptions, Router } from 'express'
import type { Kysely } from 'kysely'
import { z } from 'zod'
import type { Database } from '../db/schema.js'
import { ConflictError, UnauthorizedError } from '../lib/errors.js'
import { validate } from '../middleware/validate.js'
import type { AccessTokens } from './access-tokens.js'
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js'
import type { RefreshTokens } from './refresh-tokens.js'
import { publicUserColumns } from './schema.js'

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
  db: Kysely<Database>
  accessTokens: AccessTokens
  refreshTokens: RefreshTokens
  refreshTtlMs: number
  secureCookie: boolean
}

/** A Postgres unique violation (23505) on one of our unique indexes. */
export function isUniqueViolation(error: unknown): error is { constraint?: string } {
  return (error as { code?: string } | null)?.code === '23505'
}

export function authRoutes(options: AuthRoutesOptions): Router {
  const { db, accessTokens, refreshTokens } = options
  const cookie: CookieOptions = {
    httpOnly: true,
    secure: options.secureCookie,
    sameSite: 'strict',
    // Sent only to the auth endpoints: the refresh token never travels with API calls.
    path: '/api/auth',
  }
  const invalid = () =>
    new UnauthorizedError('Invalid credentials', { code: 'INVALID_CREDENTIALS' })
  const refreshTokenOf = (header: string | undefined) =>
    header ? parseCookie(header)[REFRESH_COOKIE] : undefined

  const router = Router()

  router.post('/register', validate({ body: registerBody }), async (req, res) => {
    const { email, username, password } = req.body
    try {
      const user = await db
        .insertInto('users')
        .values({ email, username, password_hash: await hashPassword(password) })
        .returning(['id', 'email', 'username', 'role'])
        .executeTakeFirstOrThrow()
      res.status(201).json(user)
    } catch (error) {
      if (isUniqueViolation(error)) {
        const what = error.constraint === 'users_username_key' ? 'username' : 'email'
        throw new ConflictError(`That ${what} is already registered`)
      }
      throw error
    }
  })

  router.post('/login', validate({ body: loginBody }), async (req, res) => {
    const user = await db
      .selectFrom('users')
      .select(['id', 'role', 'password_hash'])
      .where((eb) => eb(eb.fn('lower', ['email']), '=', req.body.email.toLowerCase()))
      .executeTakeFirst()
    // An unknown email is verified against a dummy hash: same work, same time, same answer.
    const ok = await verifyPassword(
      user?.password_hash ?? (await dummyPasswordHash()),
      req.body.password,
    )
    if (!user || !ok) throw invalid()
    const refreshToken = await refreshTokens.issue(user.id)
    res.cookie(REFRESH_COOKIE, refreshToken, { ...cookie, maxAge: options.refreshTtlMs })
    res.json({ accessToken: await accessTokens.sign({ userId: user.id, role: user.role }) })
  })

  router.post('/refresh', async (req, res) => {
    const presented = refreshTokenOf(req.headers.cookie)
    if (!presented)
      throw new UnauthorizedError('No refresh token', { code: 'INVALID_REFRESH_TOKEN' })
    const result = await refreshTokens.rotate(presented)
    if (!result.ok) {
      res.clearCookie(REFRESH_COOKIE, cookie)
      throw new UnauthorizedError('Invalid refresh token', { code: 'INVALID_REFRESH_TOKEN' })
    }
    const user = await db
      .selectFrom('users')
      .select(['id', 'role'])
      .where('id', '=', result.userId)
      .executeTakeFirst()
    if (!user)
      throw new UnauthorizedError('Invalid refresh token', { code: 'INVALID_REFRESH_TOKEN' })
    res.cookie(REFRESH_COOKIE, result.token, { ...cookie, maxAge: options.refreshTtlMs })
    res.json({ accessToken: await accessTokens.sign({ userId: user.id, role: user.role }) })
  })

  router.post('/logout', async (req, res) => {
    const presented = refreshTokenOf(req.headers.cookie)
    if (presented) await refreshTokens.revoke(presented)
    res.clearCookie(REFRESH_COOKIE, cookie)
    res.status(204).end()
  })

  return router
}

export { publicUserColumns }
