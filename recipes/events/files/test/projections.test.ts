import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth } from '../src/auth/module.js'
import { database } from '../src/db/module.js'
import { events } from '../src/event-store/module.js'
import type { ProjectionRunner } from '../src/event-store/projection-runner.js'
import { startApp, type TestApp } from './support/app.js'
import { authTestEnv } from './support/auth.js'
import { useTestDatabase } from './support/database.js'
import { spawnServer } from './support/process.js'

// The balances projection against the log itself: events are written here directly (as any
// writer of the log would), and the read model must end up exactly what they say.

const db = useTestDatabase()
const modules = [database, auth, events]
// No polling during the tests: each catches the projections up itself.
const env = { DATABASE_URL: db.url, ...authTestEnv, PROJECTION_POLL_MS: '600000' }
let a: TestApp
let b: TestApp

beforeAll(async () => {
  ;[a, b] = await Promise.all([startApp({ modules, env }), startApp({ modules, env })])
})
afterAll(() => Promise.all([a.close(), b.close()]))

const balancesOf = (app: TestApp) =>
  app
    .service('projections')
    .find((p) => p.projection.name === 'account-balances') as ProjectionRunner

interface Expected {
  account_id: string
  owner_id: string
  balance: string
  version: number
}

/** `accounts` valid account streams of `length` events each, in random order, and their balances. */
function generate(accounts: number, length: number) {
  const rows: {
    stream_id: string
    stream_type: string
    version: number
    type: string
    data: string
  }[] = []
  const expected: Expected[] = []
  for (let n = 0; n < accounts; n++) {
    const id = randomUUID()
    const owner = randomUUID()
    rows.push({
      stream_id: id,
      stream_type: 'account',
      version: 1,
      type: 'AccountOpened',
      data: JSON.stringify({ ownerId: owner }),
    })
    let balance = 0
    for (let version = 2; version <= length; version++) {
      const amount = 1 + Math.floor(Math.random() * 1_000)
      const withdraw = amount <= balance && Math.random() < 0.4
      balance += withdraw ? -amount : amount
      rows.push({
        stream_id: id,
        stream_type: 'account',
        version,
        type: withdraw ? 'FundsWithdrawn' : 'FundsDeposited',
        data: JSON.stringify({ amount }),
      })
    }
    expected.push({ account_id: id, owner_id: owner, balance: String(balance), version: length })
  }
  // Interleave the streams, as concurrent writers would (each stream stays in version order).
  rows.sort((x, y) => x.version - y.version || x.stream_id.localeCompare(y.stream_id))
  return { rows, expected }
}

const readModel = () =>
  a.service('db').write.selectFrom('account_balances').selectAll().orderBy('account_id').execute()

describe('the balances projection', () => {
  it('a rebuild from 10,000 events ends identical: `npm run projections:rebuild`', {
    timeout: 120_000,
  }, async () => {
    const { rows, expected } = generate(100, 100)
    const ids = new Set(expected.map((account) => account.account_id))
    const write = a.service('db').write
    for (let i = 0; i < rows.length; i += 1_000) {
      await write
        .insertInto('events')
        .values(rows.slice(i, i + 1_000))
        .execute()
    }
    // Both instances catch up at once: they take turns, and no event is applied twice.
    await expect
      .poll(
        async () => {
          await Promise.all([balancesOf(a).catchUp(), balancesOf(b).catchUp()])
          const rows = await readModel()
          return rows.filter((row) => row.version === 100 && ids.has(row.account_id)).length
        },
        { timeout: 30_000, interval: 100 },
      )
      .toBe(100)
    // Other tests of this file may have written accounts of their own.
    const projected = (await readModel()).filter((row) => ids.has(row.account_id))
    expect(
      projected.map(({ account_id, owner_id, balance, version }) => ({
        account_id,
        owner_id,
        balance,
        version,
      })),
    ).toEqual(expected.sort((x, y) => x.account_id.localeCompare(y.account_id)))

    // Damage the read model, then rebuild it from the log, as an operator would.
    await write.updateTable('account_balances').set({ balance: 1 }).execute()
    await write
      .deleteFrom('account_balances')
      .where('account_id', '=', expected[0]?.account_id as string)
      .execute()
    const rebuild = spawnServer({ DATABASE_URL: db.url }, [], 'src/event-store/rebuild.ts')
    const done = await rebuild.waitForLog((line) => line.msg === 'projection rebuilt', 60_000)
    expect(await rebuild.exited).toBe(0)
    expect(done).toMatchObject({ projection: 'account-balances' })
    expect(done.events).toBeGreaterThanOrEqual(rows.length) // the whole log, replayed
    expect((await readModel()).filter((row) => ids.has(row.account_id))).toEqual(projected)
  })

  it('never skips an event whose transaction commits after a later one', async () => {
    const [first, second]: string[] = [randomUUID(), randomUUID()]
    const opened = (id: string) => ({
      stream_id: id,
      stream_type: 'account',
      version: 1,
      type: 'AccountOpened',
      data: JSON.stringify({ ownerId: randomUUID() }),
    })
    const slow = new pg.Client({ connectionString: db.url })
    await slow.connect()
    try {
      // The slow writer takes the earlier position but has not committed yet…
      await slow.query('begin')
      await slow.query(
        'insert into events (stream_id, stream_type, version, type, data) values ($1, $2, $3, $4, $5)',
        Object.values(opened(first as string)),
      )
      // …when a quick one writes after it and commits, and the projection runs.
      await a
        .service('db')
        .write.insertInto('events')
        .values(opened(second as string))
        .execute()
      await balancesOf(a).catchUp()
      await slow.query('commit')
    } finally {
      await slow.end()
    }
    await expect
      .poll(
        async () => {
          await balancesOf(a).catchUp()
          return (await readModel()).filter((row) => [first, second].includes(row.account_id))
            .length
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe(2)
  })
})
