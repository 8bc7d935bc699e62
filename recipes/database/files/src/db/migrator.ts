import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type Kysely, sql } from 'kysely'
import { type Migration, Migrator } from 'kysely/migration'

/** `src/db/migrations` under tsx and vitest; `dist/db/migrations` (compiled) in production. */
export const migrationFolder = fileURLToPath(new URL('./migrations', import.meta.url))

/**
 * The bookkeeping `npx backendkit migrate` keeps, so that both can migrate the same database in
 * any order: kysely's own table and advisory lock, and backendkit's batches beside them (a batch
 * is what one run applied, what `backendkit migrate down` reverts).
 */
const BATCH_TABLE = 'backendkit_migration_batch'
/** kysely's migration lock id (kysely ≥ 0.29.3 holds it as a session-level advisory lock). */
const LOCK_ID = sql.raw('3853314791062309107')

/** Migration files as backendkit lists them: `.ts`/`.js` (not `.d.ts`), none starting with `_` or `.`. */
function listMigrations(folder: string): { name: string; file: string }[] {
  return readdirSync(folder)
    .filter((file) => /\.m?[jt]s$/.test(file) && !/\.d\.m?ts$/.test(file) && !/^[_.]/.test(file))
    .map((file) => ({ name: file.replace(/\.m?[jt]s$/, ''), file: path.join(folder, file) }))
}

const provider = (folder: string) => ({
  async getMigrations(): Promise<Record<string, Migration>> {
    const entries = await Promise.all(
      listMigrations(folder).map(
        async ({ name, file }) =>
          [name, (await import(pathToFileURL(file).href)) as Migration] as const,
      ),
    )
    return Object.fromEntries(entries)
  },
})

export interface MigrateResult {
  /** The migrations this run applied, in order (none when the schema was up to date). */
  applied: string[]
  /** The batch they were recorded as; null when nothing was applied. */
  batch: number | null
}

/**
 * Applies every pending migration as one batch in one transaction, exactly as `npx backendkit
 * migrate up` does: kysely's Migrator, kysely's advisory lock held from reading the state to the
 * commit (so this, backendkit, or another instance doing the same apply each migration once),
 * and the batch recorded in the same transaction. It needs only kysely and pg: production runs it
 * compiled (`node dist/db/migrate.js`, see src/db/migrate.ts) with no devDependency installed,
 * and tests run it on their own databases.
 */
export async function migrateToLatest(
  // biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema version
  db: Kysely<any>,
  folder = migrationFolder,
): Promise<MigrateResult> {
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${LOCK_ID})`.execute(conn)
    try {
      return await conn.transaction().execute(async (trx) => {
        await trx.schema
          .createTable(BATCH_TABLE)
          .ifNotExists()
          .addColumn('name', 'varchar(255)', (col) => col.notNull().primaryKey())
          .addColumn('batch', 'integer', (col) => col.notNull())
          .execute()
        const migrator = new Migrator({ db: trx, provider: provider(folder) })
        const { error, results = [] } = await migrator.migrateToLatest()
        if (error) {
          const failed = results.find((result) => result.status === 'Error')
          throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, {
            cause: error,
          })
        }
        const applied = results.map((result) => result.migrationName)
        if (applied.length === 0) return { applied, batch: null }
        const { rows } = await sql<{ next: number }>`
          select coalesce(max(batch), 0) + 1 as next from ${sql.table(BATCH_TABLE)}`.execute(trx)
        const batch = Number(rows[0]?.next ?? 1)
        await trx
          .insertInto(BATCH_TABLE)
          .values(applied.map((name) => ({ name, batch })))
          .execute()
        return { applied, batch }
      })
    } finally {
      // A dropped connection released the lock with it.
      await sql`select pg_advisory_unlock(${LOCK_ID})`.execute(conn).catch(() => {})
    }
  })
}
