import { Kysely, type LogEvent, PostgresDialect } from 'kysely'
import pg from 'pg'
import { type ConnectionUrl, postgresService } from '../urls.js'
import { CONNECT_TIMEOUT_MS, connectionError } from './describe.js'

export interface KyselyOptions {
  /** Shown in pg_stat_activity, so `migrate unlock` can say who holds a lock. */
  applicationName?: string
  log?: (event: LogEvent) => void
  max?: number
}

/**
 * Opens a kysely + pg pool, proves it can connect (within 5 s), runs `fn` and always destroys the
 * pool, so no command hangs on an open socket.
 */
// biome-ignore lint/suspicious/noExplicitAny: the operator works on schemas it does not know
export async function usingKysely<T, DB = any>(
  target: ConnectionUrl,
  fn: (db: Kysely<DB>) => Promise<T>,
  options: KyselyOptions = {},
): Promise<T> {
  const pool = new pg.Pool({
    connectionString: target.raw,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 1_000,
    max: options.max ?? 4,
    application_name: options.applicationName ?? 'backendkit',
  })
  // An idle client dropped by the server must not crash the CLI; the next query reports it.
  pool.on('error', () => {})
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool }),
    ...(options.log ? { log: options.log } : {}),
  })
  try {
    try {
      const client = await pool.connect()
      client.release()
    } catch (error) {
      throw connectionError(postgresService, target, error)
    }
    return await fn(db)
  } finally {
    await db.destroy()
    // kysely ends the pool only if it ever ran a query; the connect check above may be all there was.
    if (!pool.ended) await pool.end()
  }
}
