import { Router } from 'express'
import { type Kysely, sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConfigError, loadConfig } from '../src/config.js'
import { database } from '../src/db/module.js'
import type { Database } from '../src/db/schema.js'
import type { ReadinessReport } from '../src/health/readiness.js'
import { defineModule, requireService } from '../src/module.js'
import { type ErrorBody, json, startApp, type TestApp } from './support/app.js'
import { useTestDatabase } from './support/database.js'

const primary = useTestDatabase()
const replica = useTestDatabase({ migrate: false })
const scratch = useTestDatabase({ migrate: false })

async function query(url: string, statement: string) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(statement)).rows
  } finally {
    await client.end()
  }
}

describe('database module', () => {
  let app: TestApp
  beforeAll(async () => {
    await query(
      primary.url,
      "create table whoami (name text); insert into whoami values ('primary')",
    )
    await query(
      replica.url,
      "create table whoami (name text); insert into whoami values ('replica')",
    )
    app = await startApp({
      modules: [database],
      env: { DATABASE_URL: primary.url, DATABASE_REPLICA_URL: replica.url },
    })
  })
  afterAll(() => app.close())

  const whoami = async (db: Kysely<Database>) => {
    const { rows } = await sql<{ name: string }>`select name from whoami`.execute(db)
    return rows[0]?.name
  }

  it('reports postgres and its replica as ready', async () => {
    const res = await fetch(`${app.url}/health/ready`)
    expect(res.status).toBe(200)
    const report = await json<ReadinessReport>(res)
    expect(report.checks.postgres?.status).toBe('up')
    expect(report.checks['postgres-replica']?.status).toBe('up')
  })

  it('reads go to the replica; writes and everything in a transaction go to the primary', async () => {
    const db = app.service('db')
    expect(db.hasReplica).toBe(true)
    expect(await whoami(db.read)).toBe('replica')
    expect(await whoami(db.write)).toBe('primary')
    const inTransaction = await db.write.transaction().execute((trx) => whoami(trx))
    expect(inTransaction).toBe('primary')
  })

  it('closes its pools on stop', async () => {
    const connections = async () =>
      (
        await query(
          scratch.url,
          "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name like 'app:%'",
        )
      )[0].n
    const other = await startApp({ modules: [database], env: { DATABASE_URL: scratch.url } })
    await sql`select 1`.execute(other.service('db').write)
    expect(await connections()).toBe(1)
    await other.close()
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(await connections()).toBe(0)
  })
})

describe('database readiness and configuration', () => {
  it('an unreachable database makes readiness 503, the process stays up', async () => {
    const app = await startApp({
      modules: [database],
      env: {
        DATABASE_URL: 'postgres://postgres@127.0.0.1:9/nowhere',
        DATABASE_CONNECT_TIMEOUT_MS: '500',
      },
    })
    try {
      expect((await fetch(`${app.url}/health/live`)).status).toBe(200)
      const res = await fetch(`${app.url}/health/ready`)
      expect(res.status).toBe(503)
      expect((await json<ReadinessReport>(res)).checks.postgres?.status).toBe('down')
    } finally {
      await app.close()
    }
  })

  it.each([
    [{}, 'DATABASE_URL'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://x/y', DATABASE_POOL_MAX: 'many' }, 'DATABASE_POOL_MAX'],
  ])('%j is refused naming %s', (env, variable) => {
    expect(() => loadConfig(env, [database])).toThrow(ConfigError)
    expect(() => loadConfig(env, [database])).toThrow(new RegExp(variable))
  })
})

describe("PostgreSQL's errors, as a client sees them", () => {
  /** Routes that run one statement each and let its error through to the error handler. */
  const statements = defineModule({
    name: 'statements',
    env: z.object({}),
    init({ services }) {
      const db = requireService(services, 'db', 'statements').write
      const cases: Record<string, (trx: Kysely<Database>) => Promise<unknown>> = {
        'foreign-key': (trx) => sql`insert into children (parent_id) values (42)`.execute(trx),
        unique: (trx) => sql`insert into parents (id) values (1)`.execute(trx),
        'bad-uuid': (trx) => sql`select ${'not-a-uuid'}::uuid`.execute(trx),
        nul: (trx) => sql`select ${'a\u0000b'}::text`.execute(trx),
        timeout: (trx) => sql`select pg_sleep(2)`.execute(trx),
      }
      const router = Router()
      router.get('/:case', async (req, res) => {
        const statement = cases[req.params.case]
        if (!statement) throw new Error(`no case ${req.params.case}`)
        await db.transaction().execute(async (trx) => {
          await sql`set local statement_timeout = 100`.execute(trx)
          await statement(trx)
        })
        res.json({ ran: true })
      })
      return { routes: [{ path: '/statements', router }] }
    },
  })
  let app: TestApp
  beforeAll(async () => {
    await query(
      scratch.url,
      'create table if not exists parents (id int primary key); create table if not exists children (parent_id int references parents (id)); insert into parents values (1) on conflict do nothing',
    )
    app = await startApp({ modules: [database, statements], env: { DATABASE_URL: scratch.url } })
  })
  afterAll(() => app.close())

  it.each([
    ['a foreign key to a row that is gone', 'foreign-key', 409, 'REFERENCE_GONE'],
    ['a unique violation', 'unique', 409, 'ALREADY_EXISTS'],
    ['a value PostgreSQL cannot read', 'bad-uuid', 400, 'INVALID_VALUE'],
    ['a NUL character in text', 'nul', 400, 'INVALID_VALUE'],
    ['a statement cancelled by its timeout', 'timeout', 503, 'SERVICE_UNAVAILABLE'],
  ])('%s → %d %s', async (_name, path, status, code) => {
    const res = await fetch(`${app.url}/statements/${path}`)
    expect(res.status).toBe(status)
    const body = await json<ErrorBody>(res)
    expect(body.error.code).toBe(code)
    expect(JSON.stringify(body)).not.toMatch(/children|parents|uuid|pg_sleep/)
  })
})

describe('notifications (LISTEN/NOTIFY)', () => {
  it('hears a NOTIFY at commit, and after its connection is cut, says so and listens again', async () => {
    const app = await startApp({ modules: [database], env: { DATABASE_URL: scratch.url } })
    try {
      const db = app.service('db')
      const heard: string[] = []
      let resets = 0
      await db.notifications.listen('test_channel', {
        message: (payload) => heard.push(payload),
        reset: () => resets++,
      })
      expect(db.notifications.connected).toBe(true)
      const waitFor = async (check: () => boolean) => {
        for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50))
        expect(check()).toBe(true)
      }
      await sql`select pg_notify('test_channel', 'one')`.execute(db.write)
      await waitFor(() => heard.includes('one'))

      const before = resets
      await query(
        scratch.url,
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'app:listen' and datname = current_database()",
      )
      await waitFor(() => resets >= before + 2 && db.notifications.connected) // lost, then back
      await sql`select pg_notify('test_channel', 'two')`.execute(db.write)
      await waitFor(() => heard.includes('two'))
    } finally {
      await app.close()
    }
  })
})
