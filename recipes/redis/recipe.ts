import { defineRecipe } from '../../src/scaffold/recipe.js'

export const redis = defineRecipe({
  name: 'redis',
  summary: 'one module owns Redis: connections per role, the key prefix, readiness, quit on stop',
  requires: ['core'],
  dependencies: ['ioredis'],
  module: { from: './redis/module.js', name: 'redis' },
  env: [
    {
      name: 'REDIS_URL',
      example: 'redis://127.0.0.1:6379',
      description:
        'Redis (rediss:// for TLS); every key goes under backendkit.json redis.keyPrefix',
    },
    {
      name: 'REDIS_KEY_PREFIX',
      example: '',
      description: "Overrides backendkit.json's redis.keyPrefix (empty: use backendkit.json)",
    },
    {
      name: 'REDIS_COMMAND_TIMEOUT_MS',
      example: '500',
      description: 'A Redis command on a request path fails after this long',
    },
  ],
  adds: ['src/redis/', 'services.redis', 'readiness: redis'],
})
