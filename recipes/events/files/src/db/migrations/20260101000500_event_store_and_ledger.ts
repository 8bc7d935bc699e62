import { type Kysely, sql } from 'kysely'

// The event store (one append-only table for every stream), snapshots, projection checkpoints,
// and the account ledger's read model.

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('events')
    // The position in the whole log; commit order may differ (see transaction_id).
    .addColumn('position', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('stream_id', 'uuid', (col) => col.notNull())
    .addColumn('stream_type', 'text', (col) => col.notNull())
    .addColumn('version', 'integer', (col) => col.notNull().check(sql`version > 0`))
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('data', 'jsonb', (col) => col.notNull())
    .addColumn('metadata', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    // The writing transaction: projections read only what every earlier transaction has
    // finished writing (src/event-store/projection-runner.ts).
    .addColumn('transaction_id', sql`xid8`, (col) =>
      col.notNull().defaultTo(sql`pg_current_xact_id()`),
    )
    .addColumn('recorded_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    // Optimistic concurrency: two writers appending the same version to a stream, one loses.
    .addUniqueConstraint('events_stream_version', ['stream_id', 'version'])
    .execute()
  await db.schema
    .createIndex('events_transaction_position')
    .on('events')
    .columns(['transaction_id', 'position'])
    .execute()
  // Append-only, whoever connects: history is never rewritten, only added to.
  await sql`
    create function events_are_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'the event log is append-only: % is not allowed', tg_op;
    end
    $$`.execute(db)
  await sql`
    create trigger events_no_update_or_delete before update or delete on events
    for each row execute function events_are_append_only()`.execute(db)
  await sql`
    create trigger events_no_truncate before truncate on events
    for each statement execute function events_are_append_only()`.execute(db)

  await db.schema
    .createTable('snapshots')
    .addColumn('stream_id', 'uuid', (col) => col.primaryKey())
    .addColumn('version', 'integer', (col) => col.notNull())
    // The shape of `state`: a snapshot of another shape is ignored (state comes from replay).
    .addColumn('schema_version', 'integer', (col) => col.notNull())
    .addColumn('state', 'jsonb', (col) => col.notNull())
    .addColumn('taken_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('projection_checkpoints')
    .addColumn('name', 'text', (col) => col.primaryKey())
    .addColumn('transaction_id', sql`xid8`, (col) => col.notNull())
    .addColumn('position', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .execute()

  // No foreign key to users: the ledger keeps an account's history when its owner is deleted,
  // and a rebuild from the log must give back exactly the same rows.
  await db.schema
    .createTable('account_balances')
    .addColumn('account_id', 'uuid', (col) => col.primaryKey())
    .addColumn('owner_id', 'uuid', (col) => col.notNull())
    .addColumn('balance', 'bigint', (col) => col.notNull().check(sql`balance >= 0`))
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('opened_at', sql`timestamptz(3)`, (col) => col.notNull())
    .addColumn('updated_at', sql`timestamptz(3)`, (col) => col.notNull())
    .execute()
  await db.schema
    .createIndex('account_balances_owner_id')
    .on('account_balances')
    .column('owner_id')
    .execute()
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('account_balances').execute()
  await db.schema.dropTable('projection_checkpoints').execute()
  await db.schema.dropTable('snapshots').execute()
  await db.schema.dropTable('events').execute()
  await sql`drop function events_are_append_only()`.execute(db)
}
