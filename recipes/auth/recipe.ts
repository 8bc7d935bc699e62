import { defineRecipe } from '../../src/scaffold/recipe.js'

export const auth = defineRecipe({
  name: 'auth',
  summary: 'register/login/refresh/logout: argon2id, 15-min JWTs, rotating refresh cookies, RBAC',
  title: 'Authentication and authorization',
  requires: ['database'],
  dependencies: ['jose', '@node-rs/argon2', 'cookie'],
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
  readme: `\`POST /api/auth/register\` (201 \`{id, email, username, role}\`; 409 for a taken email or
username; the client never chooses its role), \`POST /api/auth/login\` (200 \`{accessToken}\` and
the refresh cookie; 401 \`Invalid credentials\` for an unknown email and a wrong password alike —
same status, body and time, as an unknown email is checked against a dummy hash),
\`POST /api/auth/refresh\` (rotates the cookie, 200 \`{accessToken}\`), \`POST /api/auth/logout\` (204).

- **Passwords** (\`src/auth/passwords.ts\`): argon2id, 19 MiB, 2 passes, 1 lane.
- **Access tokens** (\`src/auth/access-tokens.ts\`): HS256 JWTs for 15 minutes in
  \`Authorization: Bearer\`, signed with a key object, verified with an algorithm allowlist, issuer,
  audience, type and expiry (60 s of clock skew). \`JWT_SECRET\` shorter than 32 bytes stops the
  process at start; in production the example value does too.
- **Refresh tokens** (\`src/auth/refresh-tokens.ts\`): opaque, 7 days, in an \`HttpOnly; Secure;
  SameSite=Strict\` cookie scoped to \`/api/auth\`, stored only as a SHA-256 hash in a family. Every
  refresh spends the token in one conditional UPDATE (two concurrent refreshes: at most one wins)
  and issues the next; presenting a spent token revokes the whole family. Logout revokes the
  family; \`refreshTokens.revokeAllForUser()\` ends every session (on a password or role change).
- **Authorization** (\`src/auth/middleware.ts\`): \`requireAuth\` (sets \`req.user\`),
  \`requireRole('admin')\`, and \`canModify(user, ownerId)\` for object-level checks.
- \`npm run db:seed\` creates (or promotes) the admin from \`ADMIN_EMAIL\` / \`ADMIN_PASSWORD\`.`,
})
