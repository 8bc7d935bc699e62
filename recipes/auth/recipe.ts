import { defineRecipe } from '../../src/scaffold/recipe.js'

export const auth = defineRecipe({
  name: 'auth',
  summary: 'register/login/refresh/logout: argon2id, 15-min JWTs, rotating refresh cookies, RBAC',
  requires: ['database'],
  dependencies: ['fast-jwt', '@node-rs/argon2', 'cookie'],
  module: { from: './auth/module.js', name: 'auth' },
  env: [
    {
      name: 'JWT_SECRET',
      example: 'dev-only-change-me-to-48-random-bytes-from-openssl',
      description: 'HMAC key for access tokens, at least 32 bytes (openssl rand -base64 48)',
    },
    {
      name: 'JWT_ISSUER',
      example: 'app',
      description: 'iss of issued access tokens, checked on verify',
    },
    {
      name: 'JWT_AUDIENCE',
      example: 'app',
      description: 'aud of issued access tokens, checked on verify',
    },
    {
      name: 'ACCESS_TOKEN_TTL_SECONDS',
      example: '900',
      description: 'Access token lifetime (15 min)',
    },
    { name: 'REFRESH_TOKEN_TTL_DAYS', example: '7', description: 'Refresh token lifetime' },
    {
      name: 'AUTH_COOKIE_SECURE',
      example: 'true',
      description:
        'Secure flag of the refresh cookie (false only for plain-http local development)',
    },
    {
      name: 'ADMIN_EMAIL',
      example: 'admin@example.com',
      description: 'npm run db:seed creates this admin',
    },
    {
      name: 'ADMIN_PASSWORD',
      example: '',
      description: 'Password of the seeded admin (12+ characters)',
    },
  ],
  adds: [
    '/api/auth/*',
    'requireAuth',
    'requireRole',
    'users + refresh_tokens tables',
    'admin seed',
  ],
})
