import { defineRecipe } from '../../src/scaffold/recipe.js'

export const rest = defineRecipe({
  name: 'rest',
  summary:
    'users, posts, comments: nested REST routes, offset and keyset pagination, ownership checks',
  requires: ['database', 'auth'],
  module: { from: './rest/module.js', name: 'rest' },
  adds: ['/api/users', '/api/posts', '/api/posts/:id/comments', 'pagination', '/openapi.json'],
})
