import { defineRecipe } from '../../src/scaffold/recipe.js'

export const cache = defineRecipe({
  name: 'cache',
  summary: 'cache-aside in Redis (TTL, tags, single-flight), ETag/304 and Cache-Control',
  requires: ['redis'],
  module: { from: './cache/module.js', name: 'cache' },
  env: [
    {
      name: 'CACHE_ENABLED',
      example: 'true',
      description: 'false reads everything from the source (the HTTP caching headers stay)',
    },
  ],
  adds: ['src/cache/', 'services.cache (Redis)', 'ETag + 304', 'Cache-Control / Vary'],
})
