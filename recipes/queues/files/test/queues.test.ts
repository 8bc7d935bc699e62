import { createHmac } from 'node:crypto'
import { Queue } from 'bullmq'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auth } from '../src/auth/module.js'
import { database } from '../src/db/module.js'
import type { ReadinessReport } from '../src/health/readiness.js'
import { notifyOfComment } from '../src/notifications/service.js'
import { queues } from '../src/queues/module.js'
import { evictionPolicy } from '../src/queues/queues.js'
import { redis } from '../src/redis/module.js'
import { rest } from '../src/rest/module.js'
import { type ErrorBody, json, startApp, type TestApp } from './support/app.js'
import { authTestEnv, bearer, post, type Session, signUp } from './support/auth.js'
import { useTestDatabase } from './support/database.js'
import { pollUntil, sleep } from './support/load.js'
import { jobIn, useTestQueues } from './support/queues.js'
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js'
import { startWorker, type TestWorker } from './support/worker.js'

// The API (server role) and a worker (worker role) in this process, on a database, Redis prefix
// and RabbitMQ names of this file's own: what a user does through the API, and what the worker
// does about it. Every test makes the users and posts it needs and looks only at those.

const db = useTestDatabase()
const space = useTestQueues()
const modules = [database, redis, auth, rest, queues]
const webhookSecret = 'a-webhook-secret-of-24-characters-or-more'
let receiver: WebhookReceiver
let api: TestApp
let worker: TestWorker
let url: string

beforeAll(async () => {
  receiver = await startWebhookReceiver()
  const env = {
    DATABASE_URL: db.url,
    ...authTestEnv,
    ...space.env,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: webhookSecret,
    WEBHOOK_ATTEMPTS: '3',
    WEBHOOK_BACKOFF_MS: '50',
    QUEUE_CONCURRENCY: '2',
  }
  api = await startApp({ modules, env, captureLogs: true })
  worker = await startWorker({ modules, env, captureLogs: true })
  url = api.url
})
afterAll(async () => {
  await worker?.close()
  await api?.close()
  await receiver?.close()
})

interface Post {
  id: string
}
interface Notification {
  id: string
  kind: string
  postId: string
  commentId: string
  actorId: string
  excerpt: string
  createdAt: string
  readAt: string | null
}
interface Page<T> {
  data: T[]
  meta: Record<string, unknown>
}

const call = (method: string, path: string, session?: Session, body?: unknown) =>
  fetch(`${url}${path}`, {
    method,
    headers: {
      ...(session ? bearer(session.accessToken) : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

async function createPost(session: Session): Promise<Post> {
  const res = await call('POST', `/api/users/${session.user.id}/posts`, session, {
    title: 'A post',
    body: 'text',
  })
  expect(res.status).toBe(201)
  return json<Post>(res)
}

async function comment(session: Session, postId: string, body: string): Promise<{ id: string }> {
  const res = await call('POST', `/api/posts/${postId}/comments`, session, { body })
  expect(res.status).toBe(201)
  return json(res)
}

const notificationsOf = async (session: Session, query = '') =>
  json<Page<Notification>>(await call('GET', `/api/notifications${query}`, session))

/** Waits until `session` has `count` notifications. */
const waitForNotifications = (session: Session, count: number) =>
  pollUntil(async () => {
    const page = await notificationsOf(session, '?limit=100')
    return page.data.length >= count ? page : undefined
  })

async function signUpAdmin(): Promise<Session> {
  const session = await signUp(url)
  await sql`update users set role = 'admin' where id = ${session.user.id}`.execute(
    api.service('db').write,
  )
  const login = await post(`${url}/api/auth/login`, {
    email: session.user.email,
    password: session.password,
  })
  return { ...session, accessToken: (await json<{ accessToken: string }>(login)).accessToken }
}

const producer = () =>
  new Queue('notifications', { connection: space.redis, prefix: space.queuePrefix })

describe('notifications', () => {
  it("a comment on a post notifies the post's author; GET /api/notifications is the caller's own", async () => {
    const [alice, bob] = [await signUp(url), await signUp(url)]
    const target = await createPost(alice)
    const written = await comment(bob, target.id, 'Nice post')
    const page = await waitForNotifications(alice, 1)
    expect(page.data).toEqual([
      {
        id: expect.any(String),
        kind: 'comment',
        postId: target.id,
        commentId: written.id,
        actorId: bob.user.id,
        excerpt: 'Nice post',
        createdAt: expect.any(String),
        readAt: null,
      },
    ])
    expect((await notificationsOf(bob)).data).toEqual([])
    expect((await call('GET', '/api/notifications')).status).toBe(401)
  })

  it('nobody is notified of their own comment on their own post', async () => {
    const alice = await signUp(url)
    const own = await createPost(alice)
    await comment(alice, own.id, 'replying to myself')
    const other = await createPost(await signUp(url))
    await comment(alice, other.id, 'so the worker has something to do')
    // The job of the second comment ran: the first one would have been done before it.
    await pollUntil(async () => {
      const rows = await sql<{ n: number }>`
        select count(*)::int as n from notifications where comment_id in (
          select id from comments where author_id = ${alice.user.id})`.execute(
        api.service('db').read,
      )
      return rows.rows[0]?.n === 1 ? true : undefined
    })
    expect((await notificationsOf(alice)).data).toEqual([])
  })

  it('are paginated like every list: offset pages and keyset cursors, limit capped', async () => {
    const [alice, bob] = [await signUp(url), await signUp(url)]
    const target = await createPost(alice)
    // One at a time: jobs run concurrently, and the list is ordered by when each was written.
    for (const [i, text] of ['one', 'two', 'three'].entries()) {
      await comment(bob, target.id, text)
      await waitForNotifications(alice, i + 1)
    }
    const first = await notificationsOf(alice, '?limit=2')
    expect(first.meta).toEqual({ page: 1, limit: 2, total: 3, totalPages: 2 })
    expect(first.data.map((n) => n.excerpt)).toEqual(['three', 'two'])
    const cursor = await notificationsOf(alice, '?cursor=&limit=2')
    expect(cursor.meta.hasMore).toBe(true)
    const rest = await notificationsOf(
      alice,
      `?cursor=${encodeURIComponent(String(cursor.meta.nextCursor))}&limit=2`,
    )
    expect(rest.data.map((n) => n.excerpt)).toEqual(['one'])
    expect((await call('GET', '/api/notifications?limit=-1', alice)).status).toBe(422)
  })

  it('a job that runs again (after its side effect) writes nothing twice: keyed by job id', async () => {
    const [alice, bob] = [await signUp(url), await signUp(url)]
    const target = await createPost(alice)
    const written = await comment(bob, target.id, 'only once')
    await waitForNotifications(alice, 1)
    const queue = producer()
    try {
      const job = await jobIn(queue, `comment-${written.id}`, 'completed')
      expect(job.returnvalue).toMatchObject({ duplicate: false })
      await job.retry('completed')
      const again = await pollUntil(async () => {
        const found = await jobIn(queue, `comment-${written.id}`, 'completed')
        return found.attemptsStarted > job.attemptsStarted ? found : undefined
      })
      expect(again.returnvalue).toMatchObject({ duplicate: true })
    } finally {
      await queue.close()
    }
    expect((await notificationsOf(alice)).data).toHaveLength(1)
  })

  it('job data is checked by its schema when added, and again when processed', async () => {
    const jobs = api.service('queues')
    await expect(jobs.add(notifyOfComment, { recipientId: 'not-a-uuid' } as never)).rejects.toThrow(
      /uuid|expected/i,
    )
    const queue = producer()
    try {
      // Written by hand (or by an older release): refused at once, never retried.
      const job = await queue.add('comment-created', { recipientId: 'nope' })
      const failed = await jobIn(queue, String(job.id), 'failed')
      expect(failed.failedReason).toMatch(/^invalid job data/)
      expect(failed.attemptsMade).toBe(1)
    } finally {
      await queue.close()
    }
  })

  it('jobs carry bounded retention: failed jobs kept for days, completed ones for a day', async () => {
    const queue = producer()
    try {
      const job = await queue.getJob(
        String((await api.service('queues').queue('notifications').add('noop', {})).id),
      )
      expect(job?.opts.removeOnFail).toEqual({ age: 14 * 86_400, count: 50_000 })
      expect(job?.opts.removeOnComplete).toEqual({ age: 86_400, count: 1_000 })
      expect(job?.opts.attempts).toBe(5)
      expect(job?.opts.backoff).toEqual({ type: 'exponential', delay: 1_000 })
    } finally {
      await queue.close()
    }
  })
})

describe('events to RabbitMQ', () => {
  it('every event reaches the event log through the broker, with the request id that caused it', async () => {
    const alice = await signUp(url)
    const res = await fetch(`${url}/api/users/${alice.user.id}/posts`, {
      method: 'POST',
      headers: {
        ...bearer(alice.accessToken),
        'content-type': 'application/json',
        'x-request-id': 'req-event-log-1',
      },
      body: JSON.stringify({ title: 'Logged', body: 'text' }),
    })
    const created = await json<Post>(res)
    const row = await pollUntil(async () => {
      const rows = await sql<{ name: string; request_id: string; payload: { post: Post } }>`
        select name, request_id, payload from event_log where request_id = 'req-event-log-1'`.execute(
        api.service('db').read,
      )
      return rows.rows[0]
    })
    expect(row).toMatchObject({ name: 'post.created', payload: { post: { id: created.id } } })
    const outbox = await sql<{ queued: boolean; published: boolean }>`
      select queued_at is not null as queued, published_at is not null as published
      from outbox where request_id = 'req-event-log-1'`.execute(api.service('db').read)
    expect(outbox.rows).toEqual([{ queued: true, published: true }])
  })
})

describe('request ids', () => {
  it('one id finds the whole story: the request in the server, its jobs and messages in the worker', async () => {
    const [alice, bob] = [await signUp(url), await signUp(url)]
    const target = await createPost(alice)
    const requestId = `trace-${crypto.randomUUID()}`
    const res = await fetch(`${url}/api/posts/${target.id}/comments`, {
      method: 'POST',
      headers: {
        ...bearer(bob.accessToken),
        'content-type': 'application/json',
        'x-request-id': requestId,
      },
      body: JSON.stringify({ body: 'Traced' }),
    })
    expect(res.status).toBe(201)
    await waitForNotifications(alice, 1)
    const story = (lines: Record<string, unknown>[]) =>
      lines.filter(
        (line) => line.reqId === requestId || (line.req as { id?: string })?.id === requestId,
      )
    const jobLines = await pollUntil(async () => {
      const lines = story(worker.logs()).filter((line) => line.msg === 'job completed')
      return lines.length >= 2 ? lines : undefined
    })
    // The notification and the webhook delivery, each with its queue, job and duration.
    expect(jobLines.map((line) => line.queue).sort()).toEqual(['notifications', 'webhooks'])
    for (const line of jobLines) {
      expect(line).toMatchObject({ jobId: expect.any(String), durationMs: expect.any(Number) })
    }
    expect(story(api.logs()).some((line) => line.msg === 'request completed')).toBe(true)
  })
})

describe('webhooks', () => {
  it('post and comment events are delivered to WEBHOOK_URL, signed (Standard Webhooks)', async () => {
    const alice = await signUp(url)
    const created = await createPost(alice)
    const delivery = await pollUntil(async () =>
      receiver.received.find((w) => w.type === 'post.created' && w.body.includes(created.id)),
    )
    const { headers, body, id } = delivery
    const timestamp = String(headers['webhook-timestamp'])
    expect(headers['webhook-id']).toBe(id)
    const mac = createHmac('sha256', webhookSecret)
      .update(`${id}.${timestamp}.${body}`)
      .digest('base64')
    expect(headers['webhook-signature']).toBe(`v1,${mac}`)
    expect(JSON.parse(body)).toMatchObject({
      type: 'post.created',
      data: { post: { id: created.id } },
    })
    // User events carry email addresses: they stay inside.
    expect(receiver.received.some((w) => w.type.startsWith('user.'))).toBe(false)
  })

  it('a receiver that fails is retried with backoff; one that keeps failing leaves a failed job saying why', async () => {
    const admin = await signUpAdmin()
    const failures = new Map<string, number>()
    receiver.answer = (webhook) => {
      if (webhook.type !== 'webhook.test') return 204
      const n = (failures.get(webhook.id) ?? 0) + 1
      failures.set(webhook.id, n)
      return n <= 2 ? 503 : 204
    }
    try {
      const recovering = await call('POST', '/api/webhooks/test', admin)
      expect(recovering.status).toBe(202)
      const { jobId } = await json<{ jobId: string }>(recovering)
      const queue = new Queue('webhooks', { connection: space.redis, prefix: space.queuePrefix })
      try {
        const done = await jobIn(queue, jobId, 'completed')
        expect(done.attemptsMade).toBe(3) // two failed attempts, then the delivery
        expect(failures.get(done.data.id)).toBe(3)
        receiver.answer = (webhook) => (webhook.type === 'webhook.test' ? 500 : 204)
        const failing = await json<{ jobId: string }>(
          await call('POST', '/api/webhooks/test', admin),
        )
        const failed = await jobIn(queue, failing.jobId, 'failed')
        expect(failed.attemptsMade).toBe(3)
        expect(failed.failedReason).toBe(`POST ${receiver.url} answered 500 Internal Server Error`)
      } finally {
        await queue.close()
      }
    } finally {
      receiver.answer = () => 204
    }
  })

  it('runs at most QUEUE_CONCURRENCY jobs at once per worker', async () => {
    const admin = await signUpAdmin()
    receiver.delayMs = 200
    receiver.maxInFlight = receiver.inFlight
    try {
      const ids: string[] = []
      for (let i = 0; i < 6; i++) {
        ids.push(
          (await json<{ jobId: string }>(await call('POST', '/api/webhooks/test', admin))).jobId,
        )
      }
      await pollUntil(
        async () => (receiver.inFlight === 0 && receiver.received.length > 0 ? true : undefined),
        {
          timeoutMs: 15_000,
        },
      )
      await sleep(300)
      expect(receiver.maxInFlight).toBe(2)
    } finally {
      receiver.delayMs = 0
    }
  })

  it('POST /api/webhooks/test is for admins only', async () => {
    const user = await signUp(url)
    expect((await call('POST', '/api/webhooks/test', user)).status).toBe(403)
    expect((await call('POST', '/api/webhooks/test')).status).toBe(401)
  })
})

describe('the worker', () => {
  it('is ready when RabbitMQ and its queue workers are (its own readiness)', async () => {
    // It connects to RabbitMQ in the background: ready once it has.
    const report = await pollUntil(async () => {
      const current: ReadinessReport = await worker.runtime.readiness.report()
      return current.status === 'ok' ? current : undefined
    })
    expect(Object.keys(report.checks)).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'rabbitmq', 'queue-workers']),
    )
    // The API does not depend on the broker: events wait in the outbox.
    const api503 = await json<ReadinessReport>(await fetch(`${url}/health/ready`))
    expect(Object.keys(api503.checks)).not.toContain('rabbitmq')
  })

  it.each([
    ['# Memory\r\nused_memory:1\r\nmaxmemory_policy:noeviction\r\n', 'noeviction'],
    ['maxmemory_policy:allkeys-lru\r\n', 'allkeys-lru'],
    ['used_memory:1\r\n', undefined],
  ])('reads maxmemory-policy from INFO memory (%j)', (info, policy) => {
    expect(evictionPolicy(info)).toBe(policy)
  })

  it("warns at start when Redis's maxmemory-policy is not noeviction", async () => {
    const policy = evictionPolicy(await space.redis.info('memory'))
    const another = await startWorker({
      modules,
      env: { DATABASE_URL: db.url, ...authTestEnv, ...space.env },
      captureLogs: true,
    })
    try {
      await sleep(200)
      const warned = another.logs().some((line) => String(line.msg).includes('maxmemory-policy'))
      expect(warned).toBe(policy !== 'noeviction')
    } finally {
      await another.close()
    }
  })
})

describe('a producer that cannot reach Redis', () => {
  it('answers 503 with Retry-After, never a 202 for work that was not taken', async () => {
    const admin = await signUpAdmin()
    const { TcpProxy } = await import('./support/tcp-proxy.js')
    const proxy = await TcpProxy.start(space.env.REDIS_URL as string)
    const cut = await startApp({
      modules,
      env: {
        DATABASE_URL: db.url,
        ...authTestEnv,
        ...space.env,
        REDIS_URL: proxy.url(space.env.REDIS_URL as string),
        WEBHOOK_URL: receiver.url,
      },
    })
    try {
      expect(
        (
          await fetch(`${cut.url}/api/webhooks/test`, {
            method: 'POST',
            headers: bearer(admin.accessToken),
          })
        ).status,
      ).toBe(202)
      await proxy.cut()
      const res = await fetch(`${cut.url}/api/webhooks/test`, {
        method: 'POST',
        headers: bearer(admin.accessToken),
      })
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('5')
      expect((await json<ErrorBody>(res)).error.code).toBe('SERVICE_UNAVAILABLE')
      await proxy.restore()
      const back = await pollUntil(async () => {
        const answer = await fetch(`${cut.url}/api/webhooks/test`, {
          method: 'POST',
          headers: bearer(admin.accessToken),
        })
        return answer.status === 202 ? answer : undefined
      })
      expect(back.status).toBe(202)
    } finally {
      await cut.close()
      await proxy.close()
    }
  })

  it('answers 503 at once when Redis was already down when the API started', async () => {
    const admin = await signUpAdmin()
    const { TcpProxy } = await import('./support/tcp-proxy.js')
    const proxy = await TcpProxy.start(space.env.REDIS_URL as string)
    await proxy.cut()
    const down = await startApp({
      modules,
      env: {
        DATABASE_URL: db.url,
        ...authTestEnv,
        ...space.env,
        REDIS_URL: proxy.url(space.env.REDIS_URL as string),
        WEBHOOK_URL: receiver.url,
      },
    })
    try {
      const started = performance.now()
      const res = await fetch(`${down.url}/api/webhooks/test`, {
        method: 'POST',
        headers: bearer(admin.accessToken),
      })
      expect(res.status).toBe(503)
      expect(performance.now() - started).toBeLessThan(1_000)
    } finally {
      await down.close()
      await proxy.close()
    }
  })

  it('409 when no WEBHOOK_URL is configured', async () => {
    const admin = await signUpAdmin()
    const bare = await startApp({
      modules,
      env: { DATABASE_URL: db.url, ...authTestEnv, ...space.env },
    })
    try {
      const res = await fetch(`${bare.url}/api/webhooks/test`, {
        method: 'POST',
        headers: bearer(admin.accessToken),
      })
      expect(res.status).toBe(409)
      expect((await json<ErrorBody>(res)).error.code).toBe('NO_WEBHOOK')
    } finally {
      await bare.close()
    }
  })
})
