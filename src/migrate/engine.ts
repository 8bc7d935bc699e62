import { type Kysely, type LogEvent, sql } from 'kysely'
import { type Migration, Migrator, NO_MIGRATIONS } from 'kysely/migration'
import { BackendkitError, errorMessage } from '../core/errors.js'
import { loadMigration, type MigrationFile, type MigrationModule } from './files.js'

export const MIGRATION_TABLE = 'kysely_migration'
export const MIGRATION_LOCK_TABLE = 'kysely_migration_lock'
/** backendkit's record of batches, beside kysely's own table (which it leaves as kysely reads it). */
export const BATCH_TABLE = 'backendkit_migration_batch'
/**
 * kysely's own PostgreSQL advisory lock id. Holding it for the whole command (plan + run) keeps out
 * every other kysely migrator too, not just other backendkit runs.
 */
export const LOCK_ID = 3853314791062309107n
const lockKey = sql.raw(LOCK_ID.toString())

// biome-ignore lint/suspicious/noExplicitAny: the operator works on schemas it does not know
type AnyDb = Kysely<any>

export interface AppliedMigration {
  name: string
  /** kysely's timestamp column (ISO string). */
  appliedAt: string
  /** null for a migration applied by another tool (no batch recorded). */
  batch: number | null
}

async function tableExists(db: AnyDb, table: string): Promise<boolean> {
  const { rows } = await sql<{
    oid: string | null
  }>`select to_regclass(${table})::text as oid`.execute(db)
  return Boolean(rows[0]?.oid)
}

/** Applied migrations in kysely's order (time applied, then name). Read-only: creates nothing. */
export async function readApplied(db: AnyDb): Promise<AppliedMigration[]> {
  if (!(await tableExists(db, MIGRATION_TABLE))) return []
  const withBatches = await tableExists(db, BATCH_TABLE)
  const { rows } = await (withBatches
    ? sql<{ name: string; timestamp: string; batch: number | null }>`
        select m.name, m.timestamp, b.batch
        from ${sql.table(MIGRATION_TABLE)} m
        left join ${sql.table(BATCH_TABLE)} b on b.name = m.name`
    : sql<{ name: string; timestamp: string; batch: null }>`
        select name, timestamp, null as batch from ${sql.table(MIGRATION_TABLE)}`
  ).execute(db)
  return rows
    .map((row) => ({ name: row.name, appliedAt: row.timestamp, batch: row.batch }))
    .sort((a, b) => {
      const byTime = new Date(a.appliedAt).getTime() - new Date(b.appliedAt).getTime()
      return byTime !== 0 ? byTime : a.name.localeCompare(b.name)
    })
}

export interface LockHolder {
  pid: number
  application: string
  since: string | null
  state: string | null
}

/** Who holds kysely's migration lock in this database, if anyone. */
export async function findLockHolder(db: AnyDb): Promise<LockHolder | undefined> {
  const high = Number(LOCK_ID >> 32n)
  const low = Number(LOCK_ID & 0xffffffffn)
  const { rows } = await sql<{
    pid: number
    application_name: string
    since: Date | null
    state: string | null
  }>`
    select a.pid, a.application_name, coalesce(a.xact_start, a.backend_start) as since, a.state
    from pg_locks l join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.granted
      and l.database = (select oid from pg_database where datname = current_database())
      and l.classid = ${high}::bigint::oid and l.objid = ${low}::bigint::oid and l.objsubid = 1
    limit 1`.execute(db)
  const row = rows[0]
  if (!row) return undefined
  return {
    pid: row.pid,
    application: row.application_name || 'unknown',
    since: row.since ? new Date(row.since).toISOString() : null,
    state: row.state,
  }
}

export function describeHolder(holder: LockHolder): string {
  const since = holder.since ? `, since ${holder.since}` : ''
  return `pid ${holder.pid} (${holder.application}${since})`
}

async function withMigrationLock<T>(
  db: AnyDb,
  onWait: (holder: LockHolder | undefined) => void,
  fn: (conn: AnyDb) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{ locked: boolean }>`
      select pg_try_advisory_lock(${lockKey}) as locked`.execute(conn)
    if (!rows[0]?.locked) {
      onWait(await findLockHolder(conn))
      await sql`select pg_advisory_lock(${lockKey})`.execute(conn)
    }
    try {
      return await fn(conn)
    } finally {
      // If the connection died the server released the lock with it.
      await sql`select pg_advisory_unlock(${lockKey})`.execute(conn).catch(() => {})
    }
  })
}

/** The tables kysely and backendkit keep, created exactly as kysely creates its own. */
async function ensureBookkeeping(trx: AnyDb): Promise<void> {
  await trx.schema
    .createTable(MIGRATION_TABLE)
    .ifNotExists()
    .addColumn('name', 'varchar(255)', (col) => col.notNull().primaryKey())
    .addColumn('timestamp', 'varchar(255)', (col) => col.notNull())
    .execute()
  await trx.schema
    .createTable(MIGRATION_LOCK_TABLE)
    .ifNotExists()
    .addColumn('id', 'varchar(255)', (col) => col.notNull().primaryKey())
    .addColumn('is_locked', 'integer', (col) => col.notNull().defaultTo(0))
    .execute()
  await sql`insert into ${sql.table(MIGRATION_LOCK_TABLE)} (id, is_locked)
    values ('migration_lock', 0) on conflict do nothing`.execute(trx)
  await trx.schema
    .createTable(BATCH_TABLE)
    .ifNotExists()
    .addColumn('name', 'varchar(255)', (col) => col.notNull().primaryKey())
    .addColumn('batch', 'integer', (col) => col.notNull())
    .execute()
}

export interface CapturedQuery {
  sql: string
  parameters: readonly unknown[]
}

/** Collects the SQL each migration runs (for --dry-run), fed by kysely's `log` option. */
export class QueryCapture {
  current: string | undefined
  readonly queries = new Map<string, CapturedQuery[]>()
  readonly log = (event: LogEvent): void => {
    if (!this.current) return
    const list = this.queries.get(this.current) ?? []
    list.push({ sql: event.query.sql, parameters: event.query.parameters })
    this.queries.set(this.current, list)
  }
}

export type MigrationStatus = 'applied' | 'reverted' | 'failed' | 'rolled back' | 'not run'

export interface MigrationOutcome {
  name: string
  status: MigrationStatus
  durationMs: number | null
  error: string | null
  /** The SQL it ran: only with --dry-run. */
  sql?: CapturedQuery[]
}

export interface MigrationReport {
  direction: 'up' | 'down'
  dryRun: boolean
  /** The batch recorded by `up` (null when nothing ran or for `down`). */
  batch: number | null
  ok: boolean
  error: string | null
  migrations: MigrationOutcome[]
}

export interface RunOptions {
  db: AnyDb
  files: readonly MigrationFile[]
  direction: 'up' | 'down'
  /** Chooses the migrations to run, from the applied state read under the lock. */
  select(applied: AppliedMigration[]): string[]
  dryRun: boolean
  capture: QueryCapture
  onWait(holder: LockHolder | undefined): void
}

class DryRunRollback extends Error {}

/**
 * Runs the selected migrations as one batch in one transaction under kysely's lock, through
 * kysely's Migrator, and records the batch in the same transaction: either everything happened
 * (migrations, kysely's rows, the batch) or nothing did.
 */
export async function runMigrations(options: RunOptions): Promise<MigrationReport> {
  const { db, files, direction, capture, dryRun } = options
  const report: MigrationReport = {
    direction,
    dryRun,
    batch: null,
    ok: true,
    error: null,
    migrations: [],
  }
  return withMigrationLock(db, options.onWait, async (conn) => {
    const applied = await readApplied(conn)
    const selected = options.select(applied)
    if (selected.length === 0) return report
    const byName = new Map(files.map((file) => [file.name, file]))
    const outcomes = new Map<string, MigrationOutcome>(
      selected.map((name) => [
        name,
        { name, status: 'not run', durationMs: null, error: null } satisfies MigrationOutcome,
      ]),
    )
    report.migrations = [...outcomes.values()]

    // Load every module first: a syntax error fails the run before any SQL does.
    const modules = new Map<string, MigrationModule>()
    for (const name of selected) {
      const file = byName.get(name)
      if (!file) throw new BackendkitError(`Migration ${name} has no file`)
      try {
        modules.set(name, await loadMigration(file))
      } catch (error) {
        const outcome = outcomes.get(name)!
        outcome.status = 'failed'
        outcome.error = errorMessage(error)
        report.ok = false
        report.error = `${name}: ${outcome.error}`
        return report
      }
    }

    const step = (name: string, fn: 'up' | 'down') => async (trx: AnyDb) => {
      const mod = modules.get(name)
      const run = mod?.[fn]
      if (!run) throw new Error(`${name} exports no ${fn}() function, so it cannot be reverted`)
      const outcome = outcomes.get(name)!
      const started = performance.now()
      capture.current = name
      try {
        await run(trx)
        outcome.status = fn === 'up' ? 'applied' : 'reverted'
      } catch (error) {
        // Recorded here: once the transaction is aborted kysely may lose its own result set.
        outcome.status = 'failed'
        outcome.error = errorMessage(error)
        throw error
      } finally {
        capture.current = undefined
        outcome.durationMs = Math.round((performance.now() - started) * 10) / 10
      }
    }
    // kysely sees the applied migrations plus, going up, the selected ones: so "latest" is exactly
    // the selection. Applied migrations are never called going up.
    const known =
      direction === 'up' ? [...applied.map((m) => m.name), ...selected] : applied.map((m) => m.name)
    const provider = {
      getMigrations: async (): Promise<Record<string, Migration>> =>
        Object.fromEntries(
          known.map((name) => [name, { up: step(name, 'up'), down: step(name, 'down') }]),
        ),
    }

    try {
      await conn.transaction().execute(async (trx) => {
        await ensureBookkeeping(trx)
        const migrator = new Migrator({ db: trx, provider })
        let result: Awaited<ReturnType<Migrator['migrateToLatest']>>
        if (direction === 'up') {
          result = await migrator.migrateToLatest()
        } else {
          const keep = applied.at(-selected.length - 1)?.name
          result = await migrator.migrateTo(keep ?? NO_MIGRATIONS)
        }
        if (result.error) throw result.error
        if (direction === 'up') {
          const { rows } = await sql<{ next: number }>`
            select coalesce(max(batch), 0) + 1 as next from ${sql.table(BATCH_TABLE)}`.execute(trx)
          report.batch = Number(rows[0]?.next ?? 1)
          await trx
            .insertInto(BATCH_TABLE)
            .values(selected.map((name) => ({ name, batch: report.batch })))
            .execute()
        } else {
          await trx.deleteFrom(BATCH_TABLE).where('name', 'in', selected).execute()
        }
        if (dryRun) throw new DryRunRollback()
      })
    } catch (error) {
      if (!(error instanceof DryRunRollback)) {
        report.ok = false
        report.batch = null
        const failed = report.migrations.find((m) => m.status === 'failed')
        report.error = failed ? `${failed.name}: ${failed.error}` : errorMessage(error)
        for (const outcome of report.migrations) {
          if (outcome.status === 'applied' || outcome.status === 'reverted') {
            outcome.status = 'rolled back'
          }
        }
      }
    }
    if (dryRun) {
      for (const outcome of report.migrations) outcome.sql = capture.queries.get(outcome.name) ?? []
    }
    return report
  })
}
