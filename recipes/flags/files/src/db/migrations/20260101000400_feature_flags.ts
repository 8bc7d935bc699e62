import { readFileSync } from 'node:fs'
import { type Kysely, sql } from 'kysely'

// The flags table is named in backendkit.json (`flags.table`), which the service and
// `backendkit flags` read to find it; its history is `<table>_history`. The name is fixed when
// this migration runs: to rename the table later, write a migration that renames both. (A
// migration imports no application code: it must run the same in a year.)
function tables() {
  // The project root, from src/db/migrations and dist/db/migrations alike.
  const file = new URL('../../../backendkit.json', import.meta.url)
  const { flags } = JSON.parse(readFileSync(file, 'utf8')) as { flags?: { table?: string } }
  const table = flags?.table ?? 'feature_flags'
  const base = table.slice(table.lastIndexOf('.') + 1)
  return { table, history: `${table}_history`, historyIndex: `${base}_history_flag_id` }
}

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type
export async function up(db: Kysely<any>): Promise<void> {
  const { table, history, historyIndex } = tables()
  await db.schema
    .createTable(table)
    // The same rule as FLAG_NAME in src/flags/evaluate.ts, so no writer can store a bad name.
    .addColumn('name', 'text', (col) =>
      col.primaryKey().check(sql`name ~ '^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$'`),
    )
    .addColumn('enabled', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('percentage', 'smallint', (col) =>
      col.notNull().defaultTo(100).check(sql`percentage between 0 and 100`),
    )
    .addColumn('allow_list', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'`))
    .addColumn('deny_list', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'`))
    .addColumn('description', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('updated_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_by', 'text', (col) => col.notNull())
    .execute()
  // Every change, written in the transaction that makes it; kept when the flag is deleted.
  await db.schema
    .createTable(history)
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('flag', 'text', (col) => col.notNull())
    .addColumn('action', 'text', (col) =>
      col.notNull().check(sql`action in ('create', 'update', 'delete')`),
    )
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('changed_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .execute()
  await db.schema.createIndex(historyIndex).on(history).columns(['flag', 'id']).execute()
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  const { table, history } = tables()
  await db.schema.dropTable(history).execute()
  await db.schema.dropTable(table).execute()
}
