import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Logger } from '../lib/logger.js'
import { Notifications } from './notifications.js'
import type { Database } from './schema.js'

export interface DatabaseEnv {
  DATABASE_URL: string
  DATABASE_REPLICA_URL?: string | undefined
  DATABASE_POOL_MAX: number
  DATABASE_POOL_IDLE_TIMEOUT_MS: number
  DATABASE_CONNECT_TIMEOUT_MS: number
  DATABASE_STATEMENT_TIMEOUT_MS: number
}

export interface Db {
  /** The primary: every write, every transaction, and reads that must see their own writes. */
  write: Kysely<Database>
  /** The read replica when one is configured, else the primary: reads that tolerate lag. */
  read: Kysely<Database>
  hasReplica: boolean
  /** LISTEN/NOTIFY on the primary, e.g. to drop what an instance cached when another changes it. */
  notifications: Notifications
  /** Each pool's connections right now: open, idle, and queries waiting for one. */
  poolStats(): PoolStats[]
  destroy(): Promise<void>
}

function createPool(url: string, env: DatabaseEnv, role: string, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: env.DATABASE_POOL_MAX,
    idleTimeoutMillis: env.DATABASE_POOL_IDLE_TIMEOUT_MS,
    connectionTimeoutMillis: env.DATABASE_CONNECT_TIMEOUT_MS,
    statement_timeout: env.DATABASE_STATEMENT_TIMEOUT_MS,
    application_name: `app:${role}`,
  })
  // An idle connection dropped by the server (restart, failover) must not crash the process;
  // the pool replaces it on the next query.
  pool.on('error', (error) => logger.warn({ err: error, role }, 'idle database connection lost'))
  return pool
}

export interface PoolStats {
  pool: 'primary' | 'replica'
  total: number
  idle: number
  waiting: number
}

export function createDatabase(env: DatabaseEnv, logger: Logger): Db {
  const primaryPool = createPool(env.DATABASE_URL, env, 'primary', logger)
  const replicaPool = env.DATABASE_REPLICA_URL
    ? createPool(env.DATABASE_REPLICA_URL, env, 'replica', logger)
    : undefined
  const write = new Kysely<Database>({ dialect: new PostgresDialect({ pool: primaryPool }) })
  const read = replicaPool
    ? new Kysely<Database>({ dialect: new PostgresDialect({ pool: replicaPool }) })
    : write
  const stats = (pool: 'primary' | 'replica', of: pg.Pool): PoolStats => ({
    pool,
    total: of.totalCount,
    idle: of.idleCount,
    waiting: of.waitingCount,
  })
  const notifications = new Notifications(env.DATABASE_URL, logger)
  return {
    write,
    read,
    hasReplica: read !== write,
    notifications,
    poolStats: () => [
      stats('primary', primaryPool),
      ...(replicaPool ? [stats('replica', replicaPool)] : []),
    ],
    async destroy() {
      await notifications.stop()
      await Promise.all([write.destroy(), read === write ? undefined : read.destroy()])
    },
  }
}
