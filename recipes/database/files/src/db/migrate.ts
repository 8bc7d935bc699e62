import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { loadConfig } from '../config.js'
import { createLogger } from '../lib/logger.js'
import { migrateToLatest } from './migrator.js'
import { databaseEnv } from './module.js'

/**
 * `npm run db:migrate` — in production, `node dist/db/migrate.js` (the container's migration
 * step, the Kubernetes migration Job): applies every pending migration of the compiled
 * `dist/db/migrations` with only production dependencies. Same bookkeeping as
 * `npx backendkit migrate up`, so `backendkit migrate status` and `down` see these runs as their
 * own batches. One connection, without the pools' statement timeout: an index build may take
 * longer than a request should. DATABASE_URL must be direct (not through PgBouncer in
 * transaction mode): the migration lock is a session lock.
 */
async function main(): Promise<void> {
  const { core } = loadConfig(process.env, [])
  const logger = createLogger(core)
  const { DATABASE_URL, DATABASE_CONNECT_TIMEOUT_MS } = databaseEnv.parse(process.env)
  const pool = new pg.Pool({
    connectionString: DATABASE_URL,
    max: 1,
    connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS,
    application_name: 'app:migrate',
  })
  // biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema version
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
  try {
    const { applied, batch } = await migrateToLatest(db)
    if (applied.length === 0) logger.info('migrations: every migration is applied')
    else logger.info({ applied, batch }, `migrations: applied ${applied.length} as batch ${batch}`)
  } finally {
    await db.destroy()
  }
}

main().catch((error: unknown) => {
  console.error('migrating failed:', error)
  process.exitCode = 1
})
