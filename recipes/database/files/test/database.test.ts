import { type Kysely, sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'
import { database } from '../src/db/module.js'
import type { Database } from '../src/db/schema.js'
import type { ReadinessReport } from '../src/health/readiness.js'
import { json, startApp, type TestApp } from './support/app.js'
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
