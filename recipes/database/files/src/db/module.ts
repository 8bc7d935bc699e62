import { sql } from 'kysely'
import { z } from 'zod'
import { defineModule } from '../module.js'
import { createDatabase, type Db } from './database.js'
import { databaseErrors } from './errors.js'

declare module '../module.js' {
  interface Services {
    db: Db
  }
}

const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' })

export const databaseEnv = z.object({
  DATABASE_URL: postgresUrl,
  DATABASE_REPLICA_URL: z.union([z.literal('').transform(() => undefined), postgresUrl]).optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1_000).default(10),
  DATABASE_POOL_IDLE_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
})

/** PostgreSQL for the modules after it (`services.db`), checked by readiness, closed on stop. */
export const database = defineModule({
  name: 'database',
  env: databaseEnv,
  init({ env, logger }) {
    const db = createDatabase(env, logger)
    return {
      services: { db },
      mapError: databaseErrors,
      gauges: [
        {
          name: 'db_pool_connections',
          help: 'PostgreSQL pool connections by state (total, idle) and queries waiting for one',
          labelNames: ['pool', 'state'],
          collect: () =>
            db.poolStats().flatMap(({ pool, total, idle, waiting }) => [
              { labels: { pool, state: 'total' }, value: total },
              { labels: { pool, state: 'idle' }, value: idle },
              { labels: { pool, state: 'waiting' }, value: waiting },
            ]),
        },
      ],
      readiness: {
        postgres: () => sql`select 1`.execute(db.write),
        ...(db.hasReplica ? { 'postgres-replica': () => sql`select 1`.execute(db.read) } : {}),
      },
      stop: () => db.destroy(),
    }
  },
})
