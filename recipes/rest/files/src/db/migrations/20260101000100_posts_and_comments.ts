import { type Kysely, sql } from 'kysely'

// Millisecond timestamps (timestamptz(3)) round-trip exactly through a JavaScript Date, which
// keyset cursors on (created_at, id) rely on.

// biome-ignore lint/suspicious/noExplicitAny: a migration must not depend on today's schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('posts')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('author_id', 'uuid', (col) =>
      col.notNull().references('users.id').onDelete('cascade'),
    )
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('body', 'text', (col) => col.notNull())
    .addColumn('created_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createIndex('posts_created_at_id')
    .on('posts')
    .columns(['created_at', 'id'])
    .execute()
  await db.schema
    .createIndex('posts_author_created_at_id')
    .on('posts')
    .columns(['author_id', 'created_at', 'id'])
    .execute()

  await db.schema
    .createTable('comments')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('post_id', 'uuid', (col) => col.notNull().references('posts.id').onDelete('cascade'))
    .addColumn('author_id', 'uuid', (col) =>
      col.notNull().references('users.id').onDelete('cascade'),
    )
    .addColumn('body', 'text', (col) => col.notNull())
    .addColumn('created_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createIndex('comments_post_created_at_id')
    .on('comments')
    .columns(['post_id', 'created_at', 'id'])
    .execute()
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('comments').execute()
  await db.schema.dropTable('posts').execute()
}
