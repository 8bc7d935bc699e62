import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth } from '../src/auth/module.js'
import { database } from '../src/db/module.js'
import { queues } from '../src/queues/module.js'
import { redis } from '../src/redis/module.js'
import { rest } from '../src/rest/module.js'
import { json, startApp, type TestApp } from './support/app.js'
import { authTestEnv, bearer, type Session, signUp } from './support/auth.js'
import { useTestDatabase } from './support/database.js'
import { pollUntil, sleep } from './support/load.js'
import { testAmqpUrl, useTestQueues } from './support/queues.js'
import { TcpProxy } from './support/tcp-proxy.js'
import { startWorker, type TestWorker } from './support/worker.js'

// Redis and RabbitMQ go away under the worker (through TCP proxies the test cuts) while users go
// on writing through the API: nothing fails and nothing is lost; the events wait in PostgreSQL
// and each broker gets its share when it is back.

const db = useTestDatabase()
const space = useTestQueues()
const modules = [database, redis, auth, rest, queues]
let api: TestApp
let worker: TestWorker
let redisProxy: TcpProxy
let amqpProxy: TcpProxy

beforeAll(async () => {
  redisProxy = await TcpProxy.start(space.env.REDIS_URL as string)
  amqpProxy = await TcpProxy.start(testAmqpUrl)
  const env = { DATABASE_URL: db.url, ...authTestEnv, ...space.env }
  api = await startApp({ modules, env })
  worker = await startWorker({
    modules,
    env: {
      ...env,
      REDIS_URL: redisProxy.url(space.env.REDIS_URL as string),
      AMQP_URL: amqpProxy.url(testAmqpUrl),
    },
  })
})
afterAll(async () => {
  await redisProxy?.restore().catch(() => {})
  await amqpProxy?.restore().catch(() => {})
  await worker?.close()
  await api?.close()
  await redisProxy?.close()
  await amqpProxy?.close()
})

const call = (path: string, session: Session, body?: unknown) =>
  fetch(`${api.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...bearer(session.accessToken), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

const outboxOf = async (commentId: string) => {
  const rows = await sql<{ queued: boolean; published: boolean; last_error: string | null }>`
    select queued_at is not null as queued, published_at is not null as published, last_error
    from outbox where name = 'comment.created' and payload->'comment'->>'id' = ${commentId}`.execute(
    api.service('db').read,
  )
  return rows.rows[0]
}

describe('the outbox', () => {
  it('keeps events while Redis and RabbitMQ are down and dispatches each when it is back', async () => {
    const [alice, bob] = [await signUp(api.url), await signUp(api.url)]
    const post = await json<{ id: string }>(
      await call(`/api/users/${alice.user.id}/posts`, alice, { title: 'Up', body: 'text' }),
    )
    await redisProxy.cut()
    await amqpProxy.cut()
    const res = await call(`/api/posts/${post.id}/comments`, bob, { body: 'while down' })
    expect(res.status).toBe(201) // the API does not wait for either broker
    const comment = await json<{ id: string }>(res)
    await sleep(1_500)
    expect(await outboxOf(comment.id)).toMatchObject({ queued: false, published: false })
    expect((await worker.runtime.readiness.report()).checks.rabbitmq?.status).toBe('down')

    await redisProxy.restore()
    const notified = await pollUntil(
      async () => {
        const page = await json<{ data: { commentId: string }[] }>(
          await call('/api/notifications', alice),
        )
        return page.data.find((n) => n.commentId === comment.id)
      },
      { timeoutMs: 40_000, intervalMs: 200 },
    )
    expect(notified).toBeDefined()
    expect(await outboxOf(comment.id)).toMatchObject({ queued: true, published: false })

    await amqpProxy.restore()
    await pollUntil(async () => ((await outboxOf(comment.id))?.published ? true : undefined), {
      timeoutMs: 40_000,
      intervalMs: 200,
    })
    const logged = await pollUntil(async () => {
      const rows = await sql<{ name: string }>`
        select name from event_log where payload->'comment'->>'id' = ${comment.id}`.execute(
        api.service('db').read,
      )
      return rows.rows[0]
    })
    expect(logged.name).toBe('comment.created')
    expect(await outboxOf(comment.id)).toMatchObject({ last_error: null })
  }, 90_000)
})
