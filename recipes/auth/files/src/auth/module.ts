import { z } from 'zod'
import { defineModule, requireService } from '../module.js'
import { AccessTokens } from './access-tokens.js'
import { authContext } from './middleware.js'
import { authOperations } from './openapi.js'
import { RefreshTokens } from './refresh-tokens.js'
import { authRoutes } from './routes.js'
import { AuthService } from './service.js'
import { TokenVersions } from './token-versions.js'

declare module '../module.js' {
  interface Services {
    auth: AuthService
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

/**
 * Accounts and sessions (`services.auth`), /api/auth, and the auth context that tells every
 * later step who is calling.
 */
export const auth = defineModule({
  name: 'auth',
  env: authEnv,
  async init({ env, services, logger }) {
    const db = requireService(services, 'db', 'auth')
    const accessTokens = new AccessTokens({
      secret: env.JWT_SECRET,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      ttlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    })
    const refreshTtlMs = env.REFRESH_TOKEN_TTL_DAYS * 86_400_000
    const versions = new TokenVersions(db)
    await versions.start()
    const service = new AuthService(
      db,
      accessTokens,
      new RefreshTokens(db.write, refreshTtlMs, logger),
      versions,
    )
    return {
      services: { auth: service },
      middleware: [{ slot: 'auth-context', handler: authContext(service) }],
      routes: [
        {
          path: '/api/auth',
          router: authRoutes({
            auth: service,
            limits: services.limits,
            refreshTtlMs,
            secureCookie: env.AUTH_COOKIE_SECURE,
          }),
        },
      ],
      openapi: authOperations,
    }
  },
})
