import { defineRecipe } from '../../src/scaffold/recipe.js'

export const database = defineRecipe({
  name: 'database',
  summary: 'PostgreSQL through kysely + pg: pool, read replica, typed schema, migrations, seeds',
  title: 'Database: PostgreSQL with kysely',
  requires: ['core'],
  dependencies: ['kysely', 'pg'],
  devDependencies: ['@types/pg'],
  module: { from: './db/module.js', name: 'database' },
  scripts: { 'db:seed': 'tsx --env-file-if-exists=.env src/db/seed.ts' },
  env: [
    {
      name: 'DATABASE_URL',
      example: 'postgres://postgres@127.0.0.1:5432/app',
      description:
        'PostgreSQL primary: every write, every transaction (a direct URL for migrations)',
    },
    {
      name: 'DATABASE_REPLICA_URL',
      example: '',
      description:
        'Optional read replica for reads that tolerate replication lag (empty: the primary)',
    },
    { name: 'DATABASE_POOL_MAX', example: '10', description: 'Connections per pool, per instance' },
    {
      name: 'DATABASE_POOL_IDLE_TIMEOUT_MS',
      example: '10000',
      description: 'Close a pooled connection idle this long',
    },
    {
      name: 'DATABASE_CONNECT_TIMEOUT_MS',
      example: '5000',
      description: 'Give up opening a connection after this long',
    },
    {
      name: 'DATABASE_STATEMENT_TIMEOUT_MS',
      example: '30000',
      description: 'The server cancels any statement running longer than this',
    },
  ],
  adds: ['src/db/', 'migrations', 'db:seed', 'readiness: postgres'],
  readme: `\`src/db/database.ts\` opens two kysely handles over pg pools (size, idle, connect and
statement timeouts from the environment):

- \`db.write\` — the primary: every write, every transaction (reads inside a transaction included),
  and reads that must see what was just written;
- \`db.read\` — the replica from \`DATABASE_REPLICA_URL\` when set, else the primary: reads that
  tolerate replication lag (lists, lookups).

The schema is typed: each feature declares its tables by merging into \`Database\`
(\`src/db/schema.ts\`), so queries are checked by tsc. Readiness checks \`postgres\` (and
\`postgres-replica\`); the pools close on shutdown.

Migrations are TypeScript files in \`src/db/migrations\` (\`<UTC timestamp>_<name>.ts\`, each with
\`up\` and \`down\`). Apply them with \`npx backendkit migrate up\` (one batch, one transaction,
under a lock, \`--dry-run\` to see the SQL); \`migrate status\`, \`migrate down\` and
\`migrate make <name>\` do the rest. Migrations need a direct database URL, not one through
PgBouncer in transaction mode. \`npm run db:seed\` runs every seed in \`src/db/seeds\` in name order;
seeds are idempotent.

Tests get a database of their own per test file (\`test/support/database.ts\`), migrated to the
latest schema and dropped afterwards.`,
})
