import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'
import { testServices } from './env.js'

/** Sends the AMQP 0-9-1 protocol header and expects the server's Connection.Start frame. */
function checkAmqp(url: string): Promise<void> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port || 5672) })
    const fail = (error: Error) => {
      socket.destroy()
      reject(error)
    }
    socket.setTimeout(3_000, () => fail(new Error('timed out')))
    socket.once('error', fail)
    socket.once('connect', () => socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')))
    socket.once('data', (data) => {
      socket.destroy()
      // frame type 1 (method) = Connection.Start: a real broker answered
      if (data[0] === 1) resolve()
      else reject(new Error('not an AMQP 0-9-1 broker'))
    })
  })
}

async function checkPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 })
  try {
    await client.connect()
    await client.query('select 1')
  } finally {
    await client.end().catch(() => {})
  }
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3_000,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
  } finally {
    redis.disconnect()
  }
}

/**
 * Fails the run up front, naming each service that is not reachable, instead of 100 timeouts.
 * Gives the run a temp folder of its own (TMPDIR, inherited by the test workers and everything
 * they spawn) and removes it at the end, so generated projects do not pile up in /tmp.
 */
export default async function setup(): Promise<() => void> {
  await checkServices()
  const previous = process.env.TMPDIR
  const runDir = mkdtempSync(path.join(previous ?? os.tmpdir(), 'backendkit-tests-'))
  process.env.TMPDIR = runDir
  return () => {
    rmSync(runDir, { recursive: true, force: true })
    if (previous === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previous
  }
}

async function checkServices(): Promise<void> {
  const checks = [
    ['PostgreSQL', testServices.postgresAdminUrl, checkPostgres],
    ['Redis', testServices.redisUrl, checkRedis],
    ['RabbitMQ', testServices.amqpUrl, checkAmqp],
  ] as const
  const results = await Promise.allSettled(checks.map(([, url, check]) => check(url)))
  const down = results.flatMap((result, i) => {
    if (result.status === 'fulfilled') return []
    const [name, url] = checks[i]!
    const where = new URL(url)
    return [`${name} at ${where.hostname}:${where.port}: ${(result.reason as Error).message}`]
  })
  if (down.length) {
    throw new Error(
      `Test services not reachable:\n  ${down.join('\n  ')}\nStart them (.ci/run does) and run the tests again.`,
    )
  }
}
