import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth } from '../src/auth/module.js'
import { database } from '../src/db/module.js'
import { events } from '../src/event-store/module.js'
import { ConcurrencyError } from '../src/event-store/store.js'
import { type ErrorBody, json, startApp, type TestApp } from './support/app.js'
import { authTestEnv, bearer, post, type Session, signUp } from './support/auth.js'
import { useTestDatabase } from './support/database.js'

// Two running instances (A and B) on one database, as behind a load balancer. Every test opens
// the accounts it needs, so the tests pass in any order.

const db = useTestDatabase()
const modules = [database, auth, events]
const env = { DATABASE_URL: db.url, ...authTestEnv, LEDGER_SNAPSHOT_EVERY: '10' }
let a: TestApp
let b: TestApp

beforeAll(async () => {
  ;[a, b] = await Promise.all([startApp({ modules, env }), startApp({ modules, env })])
})
afterAll(() => Promise.all([a.close(), b.close()]))

interface Account {
  id: string
  ownerId: string
  balance: number
  version: number
}
interface LedgerEvent {
  version: number
  type: string
  data: Record<string, unknown>
  actorId: string | null
  recordedAt: string
}

const call = (app: TestApp, method: string, path: string, session?: Session, body?: unknown) =>
  fetch(`${app.url}${path}`, {
    method,
    headers: {
      ...(session ? bearer(session.accessToken) : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

async function openAccount(session: Session, deposit = 0): Promise<Account> {
  const res = await call(a, 'POST', '/api/accounts', session)
  expect(res.status).toBe(201)
  const account = await json<Account>(res)
  if (deposit > 0) {
    const res = await call(a, 'POST', `/api/accounts/${account.id}/deposits`, session, {
      amount: deposit,
    })
    expect(res.status).toBe(201)
    return json<Account>(res)
  }
  return account
}

/** A fresh admin: signed up, promoted in the database (as the seed does), signed in again. */
async function signUpAdmin(): Promise<Session> {
  const session = await signUp(a.url)
  await sql`update users set role = 'admin' where id = ${session.user.id}`.execute(
    a.service('db').write,
  )
  const login = await post(`${a.url}/api/auth/login`, {
    email: session.user.email,
    password: session.password,
  })
  return { ...session, accessToken: (await json<{ accessToken: string }>(login)).accessToken }
}

const streamOf = (id: string) =>
  a
    .service('db')
    .write.selectFrom('events')
    .select(['version', 'type', 'data'])
    .where('stream_id', '=', id)
    .orderBy('version')
    .execute()

describe('accounts', () => {
  it('opens with 201 and Location; the read model shows balance 0 at version 1, on any instance', async () => {
    const owner = await signUp(a.url)
    const res = await call(a, 'POST', '/api/accounts', owner)
    expect(res.status).toBe(201)
    const account = await json<Account>(res)
    expect(account).toEqual({
      id: expect.any(String),
      ownerId: owner.user.id,
      balance: 0,
      version: 1,
    })
    expect(res.headers.get('location')).toBe(`/api/accounts/${account.id}`)
    const read = await call(b, 'GET', `/api/accounts/${account.id}`, owner)
    expect(read.status).toBe(200)
    expect(await json(read)).toEqual(account)
  })

  it('deposits and withdrawals answer the new state (201); the read model follows', async () => {
    const owner = await signUp(a.url)
    const { id } = await openAccount(owner)
    const deposit = await call(a, 'POST', `/api/accounts/${id}/deposits`, owner, { amount: 500 })
    expect(deposit.status).toBe(201)
    expect(await json(deposit)).toMatchObject({ balance: 500, version: 2 })
    const withdrawal = await call(b, 'POST', `/api/accounts/${id}/withdrawals`, owner, {
      amount: 120,
    })
    expect(withdrawal.status).toBe(201)
    expect(await json(withdrawal)).toMatchObject({ balance: 380, version: 3 })
    expect(await json(await call(a, 'GET', `/api/accounts/${id}`, owner))).toMatchObject({
      balance: 380,
      version: 3,
    })
    expect((await streamOf(id)).map((e) => [e.version, e.type, e.data])).toEqual([
      [1, 'AccountOpened', { ownerId: owner.user.id }],
      [2, 'FundsDeposited', { amount: 500 }],
      [3, 'FundsWithdrawn', { amount: 120 }],
    ])
  })

  it.each([
    ['zero', { amount: 0 }],
    ['a negative amount', { amount: -10 }],
    ['a fraction of a cent', { amount: 10.5 }],
    ['a string', { amount: '10' }],
    ['null', { amount: null }],
    ['no amount', {}],
    ['more than the maximum', { amount: 1_000_000_001 }],
    ['an unknown field', { amount: 10, currency: 'EUR' }],
  ])('422 for %s, on deposits and withdrawals, and nothing is recorded', async (_name, body) => {
    const owner = await signUp(a.url)
    const { id } = await openAccount(owner, 100)
    for (const kind of ['deposits', 'withdrawals']) {
      const res = await call(a, 'POST', `/api/accounts/${id}/${kind}`, owner, body)
      expect(res.status).toBe(422)
      expect((await json<ErrorBody>(res)).error.code).toBe('VALIDATION_FAILED')
    }
    expect(await streamOf(id)).toHaveLength(2)
  })

  it('409 for a withdrawal beyond the balance; the balance and the log are unchanged', async () => {
    const owner = await signUp(a.url)
    const { id } = await openAccount(owner, 500)
    const res = await call(a, 'POST', `/api/accounts/${id}/withdrawals`, owner, { amount: 501 })
    expect(res.status).toBe(409)
    expect((await json<ErrorBody>(res)).error).toMatchObject({
      code: 'INSUFFICIENT_FUNDS',
      details: { balance: 500, amount: 501 },
    })
    expect(await json(await call(a, 'GET', `/api/accounts/${id}`, owner))).toMatchObject({
      balance: 500,
      version: 2,
    })
    expect(await streamOf(id)).toHaveLength(2)
  })

  it('only the owner or an admin sees or changes an account: 401 without a token, 403 for others, 404 for none', async () => {
    const [owner, other, admin] = [await signUp(a.url), await signUp(a.url), await signUpAdmin()]
    const { id } = await openAccount(owner, 100)
    const attempts = (session?: Session) => [
      call(a, 'GET', `/api/accounts/${id}`, session),
      call(a, 'GET', `/api/accounts/${id}/events`, session),
      call(a, 'POST', `/api/accounts/${id}/deposits`, session, { amount: 1 }),
      call(a, 'POST', `/api/accounts/${id}/withdrawals`, session, { amount: 1 }),
    ]
    const statuses = async (session?: Session) =>
      (await Promise.all(attempts(session))).map((res) => res.status)
    expect(await statuses()).toEqual([401, 401, 401, 401])
    expect(await statuses(other)).toEqual([403, 403, 403, 403])
    expect(await statuses(admin)).toEqual([200, 200, 201, 201])
    expect(await statuses(owner)).toEqual([200, 200, 201, 201])
    const missing = '00000000-0000-4000-8000-000000000000'
    expect((await call(a, 'GET', `/api/accounts/${missing}`, owner)).status).toBe(404)
    expect((await call(a, 'GET', `/api/accounts/${missing}/events`, owner)).status).toBe(404)
    const deposit = await call(a, 'POST', `/api/accounts/${missing}/deposits`, owner, { amount: 1 })
    expect(deposit.status).toBe(404)
    expect((await call(a, 'GET', '/api/accounts/nope', owner)).status).toBe(422)
    const history = await json<{ data: LedgerEvent[] }>(
      await call(a, 'GET', `/api/accounts/${id}/events`, owner),
    )
    // Newest first: the owner's two changes, the admin's two, the deposit and the opening.
    const actors = [owner, owner, admin, admin, owner, owner].map((s) => s.user.id)
    expect(history.data.map((e) => e.actorId)).toEqual(actors)
  })
})

describe('concurrency', () => {
  it('100 concurrent withdrawals of 10 on a balance of 500, over two instances: exactly 50 succeed, balance 0, one event each, versions without gaps, read model = replay', {
    timeout: 60_000,
  }, async () => {
    const owner = await signUp(a.url)
    const { id } = await openAccount(owner, 500)
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        call(i % 2 ? a : b, 'POST', `/api/accounts/${id}/withdrawals`, owner, { amount: 10 }),
      ),
    )
    const statuses = responses.map((res) => res.status)
    expect(statuses.filter((s) => s === 201)).toHaveLength(50)
    expect(statuses.filter((s) => s === 409)).toHaveLength(50)
    const refusals = await Promise.all(
      responses.filter((res) => res.status === 409).map((res) => json<ErrorBody>(res)),
    )
    expect(new Set(refusals.map((r) => r.error.code))).toEqual(new Set(['INSUFFICIENT_FUNDS']))
    const balances = (
      await Promise.all(
        responses.filter((res) => res.status === 201).map((res) => json<Account>(res)),
      )
    ).map((account) => account.balance)
    expect(new Set(balances).size).toBe(50) // each success saw a different balance: 490 … 0

    const stream = await streamOf(id)
    expect(stream.map((e) => e.version)).toEqual(Array.from({ length: 52 }, (_, i) => i + 1))
    expect(stream.filter((e) => e.type === 'FundsWithdrawn')).toHaveLength(50)
    const readModel = await json<Account>(await call(b, 'GET', `/api/accounts/${id}`, owner))
    expect(readModel).toMatchObject({ balance: 0, version: 52 })
    const ledger = a.service('ledger')
    expect(await ledger.replay(id)).toEqual(readModel)
    expect(await ledger.load(id)).toEqual(readModel) // from the snapshot at version 50
    const snapshot = await a
      .service('db')
      .write.selectFrom('snapshots')
      .select(['version'])
      .where('stream_id', '=', id)
      .executeTakeFirst()
    expect(snapshot?.version).toBe(50)
  })

  it('concurrent requests to one instance wait their turn: none is lost, none retried', async () => {
    const owner = await signUp(a.url)
    const { id } = await openAccount(owner)
    const retriesBefore = a.service('ledger').stats.retries
    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        call(a, 'POST', `/api/accounts/${id}/deposits`, owner, { amount: 7 }),
      ),
    )
    expect(responses.map((res) => res.status)).toEqual(Array(30).fill(201))
    expect(a.service('ledger').stats.retries).toBe(retriesBefore)
    expect(await json(await call(a, 'GET', `/api/accounts/${id}`, owner))).toMatchObject({
      balance: 210,
      version: 31,
    })
  })

  it('the store refuses a second append at the same version: the loser gets ConcurrencyError', async () => {
    const owner = await signUp(a.url)
    const { id } = await openAccount(owner)
    const store = a.service('eventStore')
    const write = a.service('db').write
    const attempt = (amount: number) =>
      write
        .transaction()
        .execute((trx) =>
          store.append(trx, { id, type: 'account' }, 1, [
            { type: 'FundsDeposited', data: { amount } },
          ]),
        )
    const results = await Promise.allSettled([attempt(1), attempt(2)])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect(rejected.reason).toBeInstanceOf(ConcurrencyError)
    expect(await streamOf(id)).toHaveLength(2)
  })
})

describe('the log', () => {
  it('is append-only: the database refuses to update or delete an event', async () => {
    const owner = await signUp(a.url)
    const { id } = await openAccount(owner, 100)
    const write = a.service('db').write
    await expect(
      sql`update events set data = '{"amount": 1000000}' where stream_id = ${id}`.execute(write),
    ).rejects.toThrow(/append-only/)
    await expect(sql`delete from events where stream_id = ${id}`.execute(write)).rejects.toThrow(
      /append-only/,
    )
    expect(await streamOf(id)).toHaveLength(2)
  })

  it('state comes from the snapshot and the events after it; a snapshot of another shape is ignored', async () => {
    const owner = await signUp(a.url)
    const { id } = await openAccount(owner, 100)
    for (let i = 0; i < 10; i++) {
      await call(a, 'POST', `/api/accounts/${id}/withdrawals`, owner, { amount: 1 })
    }
    const ledger = a.service('ledger')
    const write = a.service('db').write
    const snapshot = await write
      .selectFrom('snapshots')
      .select(['version', 'state'])
      .where('stream_id', '=', id)
      .executeTakeFirstOrThrow()
    expect(snapshot).toMatchObject({ version: 10, state: { balance: 92, version: 10 } })
    expect(await ledger.load(id)).toEqual({ id, ownerId: owner.user.id, balance: 90, version: 12 })
    // A snapshot written by another version of the code: skipped, the stream is replayed.
    await sql`update snapshots set schema_version = 999, state = '{"balance": 1}' where stream_id = ${id}`.execute(
      write,
    )
    expect(await ledger.load(id)).toEqual(await ledger.replay(id))
    expect((await ledger.load(id))?.balance).toBe(90)
  })

  it('GET /events pages like every list: offset meta, and cursors that visit each event once, newest first', async () => {
    const owner = await signUp(a.url)
    const { id } = await openAccount(owner)
    for (let i = 1; i <= 6; i++) {
      await call(a, 'POST', `/api/accounts/${id}/deposits`, owner, { amount: i })
    }
    const page = await json<{ data: LedgerEvent[]; meta: unknown }>(
      await call(a, 'GET', `/api/accounts/${id}/events?page=2&limit=3`, owner),
    )
    expect(page.meta).toEqual({ page: 2, limit: 3, total: 7, totalPages: 3 })
    expect(page.data.map((e) => e.version)).toEqual([4, 3, 2])
    const seen: number[] = []
    let cursor = ''
    for (;;) {
      const res = await call(a, 'GET', `/api/accounts/${id}/events?cursor=${cursor}&limit=2`, owner)
      const body = await json<{ data: LedgerEvent[]; meta: { nextCursor: string | null } }>(res)
      seen.push(...body.data.map((e) => e.version))
      if (!body.meta.nextCursor) break
      cursor = body.meta.nextCursor
    }
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1])
    const [latest] = page.data
    expect(latest).toMatchObject({ type: 'FundsDeposited', data: { amount: 3 } })
    const bad = await call(a, 'GET', `/api/accounts/${id}/events?cursor=garbage`, owner)
    expect(bad.status).toBe(422)
    const capped = await json<{ meta: { limit: number } }>(
      await call(a, 'GET', `/api/accounts/${id}/events?limit=1000`, owner),
    )
    expect(capped.meta.limit).toBe(100)
  })
})
