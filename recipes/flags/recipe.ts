import { defineRecipe } from '../../src/scaffold/recipe.js'

export const flags = defineRecipe({
  name: 'flags',
  summary:
    'feature flags in PostgreSQL with history, in memory on every instance, refreshed by pub/sub',
  requires: ['database', 'redis'],
  dependencies: ['@openfeature/server-sdk', '@openfeature/core'],
  module: { from: './flags/module.js', name: 'flags' },
  env: [
    {
      name: 'FLAGS_POLL_INTERVAL_S',
      example: '10',
      description:
        'Read the flags this often even without an announcement (a lost message or a Redis outage)',
    },
  ],
  adds: [
    'src/flags/',
    'services.flags (isEnabled)',
    'GET /api/flags',
    'OpenFeature provider',
    'flags + history tables',
    'readiness: flags',
  ],
})
