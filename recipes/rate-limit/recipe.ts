import { defineRecipe } from '../../src/scaffold/recipe.js'

export const rateLimit = defineRecipe({
  name: 'rate-limit',
  summary: 'exact Redis sliding window + in-process token bucket, per user or IP; IETF headers',
  requires: ['redis'],
  module: { from: './rate-limit/module.js', name: 'rateLimiting' },
  env: [
    {
      name: 'RATE_LIMIT_MAX',
      example: '100',
      description: 'Policy "default" (/api): requests per window, per user or else per client IP',
    },
    { name: 'RATE_LIMIT_WINDOW_S', example: '60', description: 'Window of "default", seconds' },
    {
      name: 'AUTH_RATE_LIMIT_MAX',
      example: '10',
      description: 'Policy "auth" (login, register): attempts per window, per IP and per account',
    },
    {
      name: 'AUTH_RATE_LIMIT_WINDOW_S',
      example: '900',
      description: 'Window of "auth", seconds',
    },
    {
      name: 'RATE_LIMIT_ON_STORE_ERROR',
      example: 'open',
      description:
        'Redis unreachable: open (let requests through) or closed (503); "auth" is always closed',
    },
  ],
  adds: ['src/rate-limit/', 'RateLimit headers', '429 + Retry-After', 'policies in Redis'],
})
