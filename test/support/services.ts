import { randomBytes } from 'node:crypto'
import { connect } from 'amqplib'
import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { deleteKeys } from '../../src/redis/delete.js'
import { prefixedPattern } from '../../src/redis/glob.js'
import { scanKeys } from '../../src/redis/scan.js'
import { testServices } from './env.js'

const unique = () => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: testServices.postgresAdminUrl })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

export interface TestDatabase {
  name: string
  url: string
  /** The same database, reached with a password in the URL (trust auth ignores it). */
  urlWithPassword(password: string): string
}

/** Creates a database of its own for one test file; drops it (forcibly) afterwards. */
export function useTestDatabase(label = 'bk'): TestDatabase {
  const name = `${label}_test_${unique()}`
  const url = new URL(testServices.postgresAdminUrl)
  url.pathname = `/${name}`
  const db: TestDatabase = {
    name,
    url: url.href,
    urlWithPassword(password) {
      const withPassword = new URL(url.href)
      withPassword.password = password
      return withPassword.href
    },
  }
  beforeAll(() => adminQuery(`create database "${name}"`))
  afterAll(() => adminQuery(`drop database if exists "${name}" with (force)`))
  return db
}

export async function queryDatabase<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(sql, params)).rows
  } finally {
    await client.end()
  }
}

/** A Redis key prefix of its own for one test file; every key under it is deleted afterwards. */
export function useRedisPrefix(label = 'bk'): { prefix: string; url: string } {
  const prefix = `${label}-test:${unique()}:`
  afterAll(async () => {
    const redis = new Redis(testServices.redisUrl)
    try {
      const { error } = await deleteKeys(
        redis,
        scanKeys(redis, { match: prefixedPattern(prefix) }),
        {
          within: prefix,
        },
      )
      if (error) throw new Error(`keys under ${prefix} were left: ${error}`)
    } finally {
      redis.disconnect()
    }
  })
  return { prefix, url: testServices.redisUrl }
}

/** A RabbitMQ queue name of its own (tests that declare it delete it afterwards). */
export function uniqueQueueName(label = 'bk'): string {
  return `${label}-test-${unique()}`
}

/**
 * A RabbitMQ prefix (`AMQP_PREFIX`) of its own for a generated service a test runs: the exchanges
 * and queues the queues recipe declares under it are deleted afterwards.
 */
export function useAmqpPrefix(label = 'bk'): { prefix: string; url: string } {
  const prefix = `${label}-test-${unique()}`
  afterAll(async () => {
    const connection = await connect(testServices.amqpUrl)
    try {
      const channel = await connection.createChannel()
      for (const queue of ['event-log', 'event-log.retry', 'event-log.dead']) {
        await channel.deleteQueue(`${prefix}.${queue}`)
      }
      for (const exchange of ['events', 'dead-letter']) {
        await channel.deleteExchange(`${prefix}.${exchange}`)
      }
    } finally {
      await connection.close()
    }
  })
  return { prefix, url: testServices.amqpUrl }
}
