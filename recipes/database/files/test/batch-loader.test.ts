import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BatchLoader } from '../src/db/batch-loader.js'
import { useTestDatabase } from './support/database.js'

interface Things {
  things: { id: number; name: string }
}

const testDb = useTestDatabase({ migrate: false })
let db: Kysely<Things>
/** Every statement the pool ran, in order. */
const statements: string[] = []

beforeAll(async () => {
  const pool = new pg.Pool({ connectionString: testDb.url, max: 4 })
  // The database is dropped (with force) after the tests, maybe while the pool still closes.
  pool.on('error', () => {})
  // Counts the statements kysely sends, by wrapping each new connection's query().
  pool.on('connect', (client) => {
    const run = client.query.bind(client) as (...args: unknown[]) => unknown
    Object.assign(client, {
      query: (text: unknown, ...rest: unknown[]) => {
        statements.push(String(text))
        return run(text, ...rest)
      },
    })
  })
  db = new Kysely<Things>({ dialect: new PostgresDialect({ pool }) })
  await sql`create table things (id int primary key, name text not null)`.execute(db)
  await sql`insert into things select i, 'thing ' || i from generate_series(1, 100) i`.execute(db)
})
afterAll(() => db.destroy())

const readThings = (ids: readonly number[]) =>
  db
    .selectFrom('things')
    .selectAll()
    .where('id', '=', (eb) => eb.fn.any(eb.val(ids)))
    .execute()

const thingsById = (maxBatch?: number) => new BatchLoader(readThings, (row) => row.id, maxBatch)

const selects = () => statements.filter((s) => s.includes('from "things"')).length

describe('BatchLoader', () => {
  it('reads the keys asked for in one turn with one query, each caller getting its own row', async () => {
    const loader = thingsById()
    const before = selects()
    const ids = [5, 3, 5, 99, 1, 3, 42]
    const rows = await Promise.all(ids.map((id) => loader.load(id)))
    expect(rows.map((row) => row?.id)).toEqual(ids)
    expect(rows[0]).toEqual({ id: 5, name: 'thing 5' })
    expect(selects() - before).toBe(1)
  })

  it('a key without a row is undefined, for that caller only', async () => {
    const loader = thingsById()
    const [found, missing] = await Promise.all([loader.load(7), loader.load(1_000)])
    expect(found?.name).toBe('thing 7')
    expect(missing).toBeUndefined()
  })

  it('a caller never joins a query already sent: it sees a write committed after that one left', async () => {
    const loader = thingsById()
    const first = loader.load(8)
    await new Promise((resolve) => setImmediate(resolve)) // the first batch has left
    await sql`update things set name = 'renamed' where id = 8`.execute(db)
    const second = await loader.load(8)
    expect((await first)?.name).toBe('thing 8')
    expect(second?.name).toBe('renamed')
  })

  it('splits more keys than fit in one batch, and answers every caller', async () => {
    const loader = thingsById(10)
    const before = selects()
    const rows = await Promise.all(Array.from({ length: 35 }, (_, i) => loader.load(i + 1)))
    expect(rows.map((row) => row?.id)).toEqual(Array.from({ length: 35 }, (_, i) => i + 1))
    expect(selects() - before).toBe(4)
  })

  it('a key the column cannot read fails only its own callers, not the rest of the batch', async () => {
    const loader = thingsById()
    const [found, unreadable, alsoFound] = await Promise.allSettled([
      loader.load(4),
      loader.load(2 ** 40), // out of range for an int column: a data exception
      loader.load(6),
    ])
    expect(found).toMatchObject({ status: 'fulfilled', value: { id: 4 } })
    expect(alsoFound).toMatchObject({ status: 'fulfilled', value: { id: 6 } })
    expect(unreadable).toMatchObject({ status: 'rejected', reason: { code: '22003' } })
  })

  it('a failed query fails every caller of its batch, and the next batch is tried afresh', async () => {
    let fail = true
    const loader = new BatchLoader(
      async (ids: readonly number[]) => {
        if (fail) throw new Error('connection lost')
        return readThings(ids)
      },
      (row) => row.id,
    )
    const failed = await Promise.allSettled([loader.load(1), loader.load(2)])
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    fail = false
    expect((await loader.load(2))?.name).toBe('thing 2')
  })
})
