import { randomBytes } from 'node:crypto'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { migrateToLatest } from '../../src/db/migrator.js'

/** The server tests create their databases on: TEST_DATABASE_URL, else DATABASE_URL. */
const serverUrl = () =>
  process.env.TEST_DATABASE_URL ??
  process.env.DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres'

async function admin(statement: string): Promise<void> {
  const url = new URL(serverUrl())
  url.pathname = '/postgres'
  const client = new pg.Client({ connectionString: url.href })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

export interface TestDatabase {
  /** The database's URL; pass it to the app as DATABASE_URL. */
  readonly url: string
}

/**
 * A database of this test file's own, created and migrated before its tests and dropped after,
 * so test files run in parallel and leave nothing behind.
 */
export function useTestDatabase(options: { migrate?: boolean } = {}): TestDatabase {
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const url = new URL(serverUrl())
  url.pathname = `/${name}`
  beforeAll(async () => {
    await admin(`create database "${name}"`)
    if (options.migrate === false) return
    // biome-ignore lint/suspicious/noExplicitAny: migrations run on an empty schema
    const db = new Kysely<any>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.href, max: 1 }) }),
    })
    try {
      await migrateToLatest(db)
    } finally {
      await db.destroy()
    }
  })
  afterAll(() => admin(`drop database if exists "${name}" with (force)`))
  return { url: url.href }
}
