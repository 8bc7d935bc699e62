import { randomUUID } from 'node:crypto'
import { connect } from 'amqplib'
import { Queue } from 'bullmq'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { authTestEnv } from './support/auth.js'
import { useTestDatabase } from './support/database.js'
import { pollUntil, sleep } from './support/load.js'
import { type ServerProcess, spawnServer } from './support/process.js'
import { jobIn, testAmqpUrl, useTestQueues } from './support/queues.js'
import { TcpProxy } from './support/tcp-proxy.js'
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js'

// `npm run worker` as real processes, killed the ways production kills them. A job (or message)
// is held in the middle of its side effect by a table lock the test takes, so the kill lands
// exactly where it should. Locks are short (1 s) and stall checks frequent, to keep this quick.

const database = useTestDatabase()
const space = useTestQueues()
// biome-ignore lint/suspicious/noExplicitAny: the test writes rows of several recipes' tables
let db: Kysely<any>
let receiver: WebhookReceiver
const children: ServerProcess[] = []

beforeAll(async () => {
  db = new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url }) }),
  })
  receiver = await startWebhookReceiver()
})
// A worker a failed test left running would take the next test's jobs: none outlives its test.
afterEach(async () => {
  const left = children.splice(0)
  for (const child of left) child.child.kill('SIGKILL')
  await Promise.all(left.map((child) => child.exited))
})
afterAll(async () => {
  await receiver?.close()
  await db?.destroy()
})

function spawnWorker(env: Record<string, string> = {}): ServerProcess {
  const worker = spawnServer(
    {
      DATABASE_URL: database.url,
      ...authTestEnv,
      ...space.env,
      QUEUE_LOCK_DURATION_MS: '1000',
      QUEUE_STALLED_INTERVAL_MS: '500',
      QUEUE_MAX_STALLED_COUNT: '1',
      WEBHOOK_URL: receiver.url,
      ...env,
    },
    [],
    'src/worker.ts',
  )
  children.push(worker)
  return worker
}

const started = (worker: ServerProcess) =>
  worker.waitForLog((line) => line.msg === 'worker started', 30_000)

/** A user, their post, and a comment on it by another user: what a notification refers to. */
async function commentOnPost() {
  const user = () =>
    db
      .insertInto('users')
      .values({
        email: `${randomUUID()}@example.com`,
        username: randomUUID(),
        password_hash: 'x',
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  const [author, commenter] = [await user(), await user()]
  const post = await db
    .insertInto('posts')
    .values({ author_id: author.id, title: 't', body: 'b' })
    .returning('id')
    .executeTakeFirstOrThrow()
  const comment = await db
    .insertInto('comments')
    .values({ post_id: post.id, author_id: commenter.id, body: 'hi' })
    .returning('id')
    .executeTakeFirstOrThrow()
  return {
    recipientId: author.id,
    actorId: commenter.id,
    postId: post.id,
    commentId: comment.id,
    excerpt: 'hi',
  }
}

/** Holds a lock on `table` that blocks inserts until `release()`. */
async function lockTable(table: string) {
  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  await client.query('begin')
  await client.query(`lock table ${table} in share row exclusive mode`)
  return {
    async release() {
      await client.query('commit')
      await client.end()
    },
  }
}

/** Backends waiting on that lock to insert into `table` (a killed process's stay until ended). */
async function blockedInserts(table: string): Promise<number[]> {
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock'
      and query ilike ${`insert into "${table}"%`}`.execute(db)
  return rows.map((row) => row.pid)
}

const waitForBlockedInserts = (table: string, count: number) =>
  pollUntil(async () => ((await blockedInserts(table)).length >= count ? true : undefined), {
    timeoutMs: 30_000,
  })

/**
 * A process killed by SIGKILL leaves its backend waiting on the lock: end it, as a timeout would,
 * and wait until it is gone (an ended backend is still listed for a moment, and the wait for the
 * next worker's blocked insert must not count it).
 */
async function endBlockedBackends(table: string): Promise<void> {
  const pids = await blockedInserts(table)
  for (const pid of pids) await sql`select pg_terminate_backend(${pid})`.execute(db)
  await pollUntil(async () => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity where pid = any(${pids})`.execute(db)
    return rows[0]?.n === 0 ? true : undefined
  })
}

async function kill(worker: ServerProcess): Promise<void> {
  worker.child.kill('SIGKILL')
  await worker.exited
}

const notificationsOfJob = async (jobId: string) =>
  Number(
    (
      await sql<{
        n: string
      }>`select count(*) as n from notifications where job_id = ${jobId}`.execute(db)
    ).rows[0]?.n,
  )

describe('BullMQ workers as processes', { timeout: 120_000 }, () => {
  let queue: Queue
  beforeAll(() => {
    queue = new Queue('notifications', { connection: space.redis, prefix: space.queuePrefix })
  })
  afterAll(() => queue?.close())

  it('killed with SIGKILL after its side effect: the job runs again and the side effect happens once', async () => {
    const data = await commentOnPost()
    const jobId = `comment-${data.commentId}`
    const lock = await lockTable('notifications')
    await queue.add('comment-created', data, { jobId, attempts: 3 })
    const proxy = await TcpProxy.start(space.env.REDIS_URL as string)
    try {
      const a = spawnWorker({ REDIS_URL: proxy.url(space.env.REDIS_URL as string) })
      await waitForBlockedInserts('notifications', 1)
      // A can no longer tell Redis anything: its insert commits, the job never completes.
      await proxy.cut()
      await lock.release()
      await pollUntil(async () => ((await notificationsOfJob(jobId)) === 1 ? true : undefined))
      await sleep(200)
      await kill(a)
    } finally {
      await proxy.close()
    }
    const b = spawnWorker()
    const done = await jobIn(queue, jobId, 'completed', 30_000)
    expect(done.returnvalue).toMatchObject({ duplicate: true }) // it ran again…
    expect(done.attemptsStarted).toBe(2)
    expect(await notificationsOfJob(jobId)).toBe(1) // …and wrote nothing twice
    b.child.kill('SIGTERM')
    expect(await b.exited).toBe(0)
  })

  it('a job that stalls more than QUEUE_MAX_STALLED_COUNT times ends failed, saying so', async () => {
    const data = await commentOnPost()
    const jobId = `comment-${data.commentId}`
    const lock = await lockTable('notifications')
    try {
      await queue.add('comment-created', data, { jobId, attempts: 3 })
      const a = spawnWorker()
      await waitForBlockedInserts('notifications', 1)
      await kill(a)
      await endBlockedBackends('notifications')
      const b = spawnWorker() // stall 1 of 1 allowed: it runs the job again
      await waitForBlockedInserts('notifications', 1)
      await kill(b)
      await endBlockedBackends('notifications')
      const c = spawnWorker() // stall 2: too many
      await started(c)
      const failed = await jobIn(queue, jobId, 'failed', 30_000).catch((error: Error) => {
        throw new Error(`${error.message}\nworker C's log:\n${JSON.stringify(c.logs(), null, 1)}`)
      })
      expect(failed.failedReason).toBe('job stalled more than allowable limit')
      expect(failed.stalledCounter).toBeGreaterThanOrEqual(1)
      c.child.kill('SIGTERM')
      expect(await c.exited).toBe(0)
    } finally {
      await lock.release()
    }
    expect(await notificationsOfJob(jobId)).toBe(0)
  })

  it('SIGTERM during a 3-second job: the job completes, then the process exits 0', async () => {
    const webhooks = new Queue('webhooks', { connection: space.redis, prefix: space.queuePrefix })
    const worker = spawnWorker()
    await started(worker)
    receiver.delayMs = 3_000
    try {
      const id = randomUUID()
      const job = await webhooks.add('deliver', {
        id,
        type: 'post.created',
        occurredAt: new Date().toISOString(),
        data: {},
      })
      await pollUntil(async () => (receiver.received.some((w) => w.id === id) ? true : undefined))
      const signalledAt = Date.now()
      worker.child.kill('SIGTERM')
      expect(await worker.exited).toBe(0)
      expect(Date.now() - signalledAt).toBeGreaterThan(2_000)
      const done = await jobIn(webhooks, String(job.id), 'completed', 1_000)
      expect(done.returnvalue).toEqual({ status: 204 })
      expect(worker.logs().some((line) => line.msg === 'shutdown complete')).toBe(true)
    } finally {
      receiver.delayMs = 0
      await webhooks.close()
    }
  })

  it('SIGTERM while Redis is unreachable: the workers close at once and the process exits 0', async () => {
    const worker = spawnWorker({ REDIS_URL: 'redis://127.0.0.1:9' })
    await started(worker)
    const signalledAt = Date.now()
    worker.child.kill('SIGTERM')
    expect(await worker.exited).toBe(0)
    // Well inside SHUTDOWN_TIMEOUT_MS: nothing waited for a Redis that is not there.
    expect(Date.now() - signalledAt).toBeLessThan(5_000)
    expect(worker.logs().some((line) => line.msg === 'shutdown complete')).toBe(true)
  })
})

describe('the RabbitMQ consumer as a process', { timeout: 120_000 }, () => {
  it('killed holding a message: RabbitMQ delivers it again and it is recorded once', async () => {
    const connection = await connect(testAmqpUrl)
    const queue = `${space.amqpPrefix}.event-log`
    try {
      const a = spawnWorker()
      // The worker connects to RabbitMQ in the background: wait until its consumer is there.
      const consumers = async () => {
        const probe = await connection.createChannel()
        probe.on('error', () => {}) // a queue not declared yet closes the channel
        try {
          return (await probe.checkQueue(queue)).consumerCount
        } catch {
          return 0
        } finally {
          await probe.close().catch(() => {})
        }
      }
      await pollUntil(async () => ((await consumers()) > 0 ? true : undefined), {
        timeoutMs: 30_000,
      })
      const channel = await connection.createChannel()
      const lock = await lockTable('event_log')
      const event = {
        id: randomUUID(),
        name: 'post.created',
        occurredAt: new Date().toISOString(),
        payload: { post: { id: randomUUID() } },
      }
      try {
        channel.publish(
          `${space.amqpPrefix}.events`,
          event.name,
          Buffer.from(JSON.stringify(event)),
          {
            persistent: true,
            messageId: event.id,
          },
        )
        await waitForBlockedInserts('event_log', 1)
        await kill(a)
        await endBlockedBackends('event_log')
      } finally {
        await lock.release()
      }
      // Unacknowledged when its consumer died: back in the queue.
      await pollUntil(async () =>
        (await channel.checkQueue(queue)).messageCount === 1 ? true : undefined,
      )
      const b = spawnWorker()
      await pollUntil(async () => {
        const { rows } = await sql<{ n: string }>`
          select count(*) as n from event_log where event_id = ${event.id}`.execute(db)
        return Number(rows[0]?.n) === 1 ? true : undefined
      })
      expect((await channel.checkQueue(queue)).messageCount).toBe(0)
      b.child.kill('SIGTERM')
      expect(await b.exited).toBe(0)
    } finally {
      await connection.close()
    }
  })
})
