import { type Kysely, sql } from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type
export async function up(db: Kysely<any>): Promise<void> {
  // Every domain event, recorded after its change committed; the worker dispatches it to BullMQ
  // (queued_at) and RabbitMQ (published_at) separately, so one broker's outage delays only its own.
  await db.schema
    .createTable('outbox')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('event_id', 'uuid', (col) =>
      col.notNull().unique().defaultTo(sql`gen_random_uuid()`),
    )
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('occurred_at', sql`timestamptz(3)`, (col) => col.notNull())
    .addColumn('request_id', 'text')
    .addColumn('created_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('queued_at', 'timestamptz')
    .addColumn('published_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .execute()
  // What each dispatcher reads: the rows it has not taken yet, in order (small partial indexes).
  await sql`create index outbox_not_queued on outbox (id) where queued_at is null`.execute(db)
  await sql`create index outbox_not_published on outbox (id) where published_at is null`.execute(db)
  // Wakes the dispatchers at once (delivered at commit); they poll too, in case one is missed.
  await sql`
    create function outbox_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('outbox', '');
      return null;
    end
    $$
  `.execute(db)
  await sql`
    create trigger outbox_notify after insert on outbox
    for each statement execute function outbox_notify()
  `.execute(db)

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (col) => col.notNull())
    // The job that wrote it: a job that runs twice writes once.
    .addColumn('job_id', 'text', (col) => col.notNull().unique())
    .addColumn('post_id', 'uuid', (col) => col.notNull().references('posts.id').onDelete('cascade'))
    .addColumn('comment_id', 'uuid', (col) =>
      col.notNull().references('comments.id').onDelete('cascade'),
    )
    .addColumn('actor_id', 'uuid', (col) =>
      col.notNull().references('users.id').onDelete('cascade'),
    )
    .addColumn('excerpt', 'text', (col) => col.notNull())
    .addColumn('created_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('read_at', 'timestamptz')
    .execute()
  await db.schema
    .createIndex('notifications_user_created_at_id')
    .on('notifications')
    .columns(['user_id', 'created_at', 'id'])
    .execute()

  // The audit trail the RabbitMQ consumer keeps (src/event-log/).
  await db.schema
    .createTable('event_log')
    .addColumn('event_id', 'uuid', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('occurred_at', sql`timestamptz(3)`, (col) => col.notNull())
    .addColumn('request_id', 'text')
    .addColumn('received_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('event_log').execute()
  await db.schema.dropTable('notifications').execute()
  await db.schema.dropTable('outbox').execute()
  await sql`drop function outbox_notify()`.execute(db)
}
