import type { RequestHandler } from 'express'
import { z } from 'zod'
import { defineModule, requireService } from '../module.js'
import { AccessTokens } from './access-tokens.js'
import { requireAuth, requireRole } from './middleware.js'
import { hashPassword } from './passwords.js'
import { RefreshTokens } from './refresh-tokens.js'
import { authRoutes } from './routes.js'
import type { Role } from './schema.js'

export interface Auth {
  /** 401 unless the request carries a valid access token; sets req.user. */
  requireAuth: RequestHandler
  requireRole(...roles: Role[]): RequestHandler
  hashPassword(password: string): Promise<string>
  /** Ends every session of a user (call it on a password or role change). */
  refreshTokens: RefreshTokens
}

declare module '../module.js' {
  interface Services {
    auth: Auth
  }
}

export const authEnv = z
  .object({
    /** At least 32 bytes: shorter HMAC keys are guessable offline from any token. */
    JWT_SECRET: z
      .string({ error: 'is required' })
      .refine(
        (value) => Buffer.byteLength(value, 'utf8') >= 32,
        'must be at least 32 bytes (e.g. `openssl rand -base64 48`)',
      ),
    JWT_ISSUER: z.string().min(1).default('app'),
    JWT_AUDIENCE: z.string().min(1).default('app'),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3_600).default(900),
    REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(90).default(7),
    AUTH_COOKIE_SECURE: z
      .enum(['true', 'false'])
      .default('true')
      .transform((value) => value === 'true'),
    NODE_ENV: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && env.JWT_SECRET.includes('change-me')) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'is the example value from .env.example',
      })
    }
  })

/** Register, login, refresh and logout under /api/auth; requireAuth and requireRole for others. */
export const auth = defineModule({
  name: 'auth',
  env: authEnv,
  init({ env, services, logger }) {
    const db = requireService(services, 'db', 'auth').write
    const accessTokens = new AccessTokens({
      secret: env.JWT_SECRET,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      ttlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    })
    const refreshTtlMs = env.REFRESH_TOKEN_TTL_DAYS * 86_400_000
    const refreshTokens = new RefreshTokens(db, refreshTtlMs, logger)
    return {
      services: {
        auth: {
          requireAuth: requireAuth(accessTokens),
          requireRole,
          hashPassword,
          refreshTokens,
        },
      },
      routes: [
        {
          path: '/api/auth',
          router: authRoutes({
            db,
            accessTokens,
            refreshTokens,
            refreshTtlMs,
            secureCookie: env.AUTH_COOKIE_SECURE,
          }),
        },
      ],
    }
  },
})
