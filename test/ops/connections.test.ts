import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { usingKysely } from '../../src/core/connections/postgres.js'
import { usingRedis } from '../../src/core/connections/redis.js'
import { parseConnectionUrl, postgresService, redisService } from '../../src/core/urls.js'
import { runCli } from '../support/cli.js'
import { closedPort, testServices } from '../support/env.js'
import { makeProject } from '../support/project.js'
import { queryDatabase, useRedisPrefix, useTestDatabase } from '../support/services.js'

const db = useTestDatabase('conn')
const redisSpace = useRedisPrefix('conn')

describe('usingKysely', () => {
  it('runs the callback and always closes its pool, even when the callback throws', async () => {
    const target = parseConnectionUrl(db.url, postgresService)
    const name = `bk-test-${Date.now()}`
    const count = async () =>
      (
        await queryDatabase<{ n: number }>(
          db.url,
          'select count(*)::int as n from pg_stat_activity where application_name = $1',
          [name],
        )
      )[0]!.n
    const seen = await usingKysely(target, async () => count(), { applicationName: name })
    expect(seen).toBe(1)
    await expect(
      usingKysely(
        target,
        async () => {
          throw new Error('boom')
        },
        { applicationName: name },
      ),
    ).rejects.toThrow('boom')
    // pg ends sockets asynchronously on the server side; give it a moment
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(await count()).toBe(0)
  })

  it('names a database that does not exist', async () => {
    const target = parseConnectionUrl(db.url.replace(db.name, 'no_such_db_here'), postgresService)
    await expect(usingKysely(target, async () => 1)).rejects.toThrow(
      /Cannot connect to PostgreSQL at 127\.0\.0\.1:5432: database does not exist/,
    )
  })
})

describe('usingRedis', () => {
  it('runs commands and closes the connection', async () => {
    const target = parseConnectionUrl(redisSpace.url, redisService)
    const key = `${redisSpace.prefix}k`
    await usingRedis(target, (redis) => redis.set(key, 'v'))
    expect(await usingRedis(target, (redis) => redis.get(key))).toBe('v')
    const probe = new Redis(testServices.redisUrl)
    try {
      const clients = (await probe.client('LIST')) as string
      expect(clients).not.toMatch(/name=backendkit\b/)
    } finally {
      probe.disconnect()
    }
  })

  it('fails fast on a closed port, naming host:port and never the password', async () => {
    const target = parseConnectionUrl(`redis://:t0psecret@127.0.0.1:${closedPort}`, redisService)
    const started = Date.now()
    const error = await usingRedis(target, async () => 1).catch((e: Error) => e)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(String(error)).toContain(
      `Cannot connect to Redis at 127.0.0.1:${closedPort}: connection refused`,
    )
    expect(JSON.stringify(error)).not.toContain('t0psecret')
  })
})

describe('settings precedence: flag > environment > env file', () => {
  // Each source holds a URL of the wrong kind, so the error shows which one was used (no I/O).
  const project = makeProject()
  mkdirSync(path.join(project.root, 'src/db/migrations'), { recursive: true })
  writeFileSync(path.join(project.root, '.env'), 'DATABASE_URL=mysql://from-env-file/x\n')
  writeFileSync(path.join(project.root, 'other.env'), 'DATABASE_URL=mysql://from-other-file/x\n')

  it.each([
    [
      ['--database-url', 'mysql://from-flag/x'],
      { DATABASE_URL: 'mysql://from-env/x' },
      'from-flag',
    ],
    [[], { DATABASE_URL: 'mysql://from-env/x' }, 'from-env'],
    [[], {}, 'from-env-file'],
    [['--env-file', 'other.env'], {}, 'from-other-file'],
  ])('%j with env %j uses %s', async (args, env, winner) => {
    const result = await runCli(['migrate', 'status', ...args], { cwd: project.root, env })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`mysql://${winner}/x`)
  })

  it('finds the project from a subfolder, and --env-file must exist', async () => {
    const result = await runCli(['migrate', 'status'], { cwd: project.migrations })
    expect(result.stderr).toContain('mysql://from-env-file/x')
    const missing = await runCli(['migrate', 'status', '--env-file', 'nope.env'], {
      cwd: project.root,
    })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('Env file not found')
  })
})
