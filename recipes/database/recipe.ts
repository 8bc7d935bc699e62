import { defineRecipe } from '../../src/scaffold/recipe.js'

export const database = defineRecipe({
  name: 'database',
  summary: 'PostgreSQL through kysely + pg: pool, read replica, typed schema, migrations, seeds',
  requires: ['core'],
  dependencies: ['kysely', 'pg'],
  devDependencies: ['@types/pg'],
  module: { from: './db/module.js', name: 'database' },
  scripts: {
    'db:migrate': 'node --env-file-if-exists=.env dist/db/migrate.js',
    'db:seed': 'tsx --env-file-if-exists=.env src/db/seed.ts',
  },
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
  adds: ['src/db/', 'migrations', 'db:seed', 'readiness: postgres', 'pagination'],
})
