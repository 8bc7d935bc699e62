import { defineRecipe } from '../../src/scaffold/recipe.js'

export const rest = defineRecipe({
  name: 'rest',
  summary:
    'users, posts, comments: nested REST routes, offset and keyset pagination, ownership checks',
  title: 'REST API: users, posts and comments',
  requires: ['database', 'auth'],
  module: { from: './rest/module.js', name: 'rest' },
  adds: ['/api/users', '/api/posts', '/api/posts/:id/comments', 'pagination', '/openapi.json'],
  readme: `| route | who |
|---|---|
| \`GET /api/users\` · \`GET /api/users/:id\` | any signed-in user |
| \`PATCH/PUT /api/users/:id\` | that user, or an admin (only an admin changes roles; a new password or role ends every session) |
| \`DELETE /api/users/:id\` | admins (403 otherwise) |
| \`GET /api/users/:id/posts\` · \`GET /api/posts\` · \`GET /api/posts/:id\` | anyone |
| \`POST /api/users/:id/posts\` | that user, or an admin |
| \`PATCH/DELETE /api/posts/:id\` | its author, or an admin |
| \`GET /api/posts/:id/comments\` · \`POST /api/posts/:id/comments\` | anyone · any signed-in user |

201 with the created resource, 204 on delete, 404 for a missing resource, 409 on a unique
violation, 422 on invalid input — schemas are strict, so unknown keys such as \`role\` or \`id\` are
rejected (no mass assignment) — and 403 when the caller may not act. Responses are built from
selected columns (\`src/rest/present.ts\`): no password hash ever leaves the database layer.

Lists (\`src/lib/pagination.ts\`): \`?page=&limit=\` → \`{data, meta: {page, limit, total,
totalPages}}\`; \`?cursor=&limit=\` (an empty cursor starts at the newest) → \`{data, meta: {hasMore,
nextCursor}}\`. The cursor is opaque, keyset on \`(created_at, id)\` and backed by an index, so no
row repeats or goes missing when rows are inserted during a scan, and ties in \`created_at\` do not
break it. \`limit\` defaults to 20 and is capped at 100; a non-numeric or negative value is a 422.

\`GET /openapi.json\` serves the OpenAPI 3.1 document of these routes and the auth routes
(\`src/rest/openapi.ts\`), built from the same zod schemas the handlers validate with; a test
checks that every documented route exists.`,
})
