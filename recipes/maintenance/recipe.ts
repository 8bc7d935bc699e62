import { defineRecipe } from '../../src/scaffold/recipe.js'

export const maintenance = defineRecipe({
  name: 'maintenance',
  summary:
    'maintenance mode behind `backendkit down`/`up`: 503 + Retry-After on every instance, bypass secret',
  requires: ['redis'],
  module: { from: './maintenance/module.js', name: 'maintenance' },
  adds: ['src/maintenance/', 'maintenance middleware', '/__maintenance/<secret>'],
})
