import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import { sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { auth } from '../src/auth/module.js'
import { database } from '../src/db/module.js'
import type { RunRecord, Schedule, ScheduleDefinition } from '../src/jobs/cron.js'
import { createJobsModule, jobs } from '../src/jobs/module.js'
import type { AppModule } from '../src/module.js'
import { queues } from '../src/queues/module.js'
import { redis } from '../src/redis/module.js'
import { rest } from '../src/rest/module.js'
import { authTestEnv } from './support/auth.js'
import { useTestDatabase } from './support/database.js'
import { pollUntil, sleep } from './support/load.js'
import { jobIn, useTestQueues } from './support/queues.js'
import { startWorker, type TestWorker } from './support/worker.js'

// Schedules run by workers started in this process, as `npm run worker` starts them, on Redis
// keys and a database of this file's own.

const db = useTestDatabase()
const space = useTestQueues()
const env = () => ({ DATABASE_URL: db.url, ...authTestEnv, ...space.env })
const base = [database, redis, auth, rest, queues]
// Workers share this file's cron queue: each test closes the ones it started, so none of them
// takes another test's jobs.
const workers: TestWorker[] = []
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.close()
})

async function worker(jobsModule: AppModule, extraEnv: Record<string, string> = {}) {
  const started = await startWorker({
    modules: [...base, jobsModule],
    env: { ...env(), ...extraEnv },
  })
  workers.push(started)
  return started
}

/** A schedule of the test's own, ticking every `every` ms (or never), recording each run. */
function tickingSchedule(every?: number) {
  const runs: { jobId: string; manual: boolean; at: number }[] = []
  const name = `tick-${randomUUID().slice(0, 8)}`
  const schedule: Schedule = {
    name,
    description: 'a test schedule',
    ...(every ? { every } : { pattern: '0 0 1 1 *' }),
    run: async ({ job, manual }) => {
      runs.push({ jobId: String(job.id), manual, at: Date.now() })
      return { n: runs.length }
    },
  }
  return { name, schedule, runs, module: createJobsModule(() => [schedule]) }
}

const cronQueue = () => new Queue('cron', { connection: space.redis, prefix: space.queuePrefix })

describe('schedules', () => {
  it('the worker publishes every definition under the prefix and creates its scheduler', async () => {
    // Another test of this file may have published the same schedules in another time zone.
    await space.redis.del(`${space.prefix}cron:schedules`)
    const started = await worker(jobs, { CRON_TIMEZONE: 'Europe/Paris' })
    const definition = await pollUntil(async () => {
      const raw = await space.redis.hget(
        `${space.prefix}cron:schedules`,
        'purge-expired-refresh-tokens',
      )
      return raw ? (JSON.parse(raw) as ScheduleDefinition) : undefined
    })
    expect(definition).toMatchObject({
      name: 'purge-expired-refresh-tokens',
      pattern: '30 3 * * *',
      every: null,
      tz: 'Europe/Paris',
      queue: { prefix: space.queuePrefix, name: 'cron' },
      template: { name: 'purge-expired-refresh-tokens' },
    })
    const queue = cronQueue()
    try {
      // The scheduler as this worker set it (an earlier one may have left it in UTC).
      const scheduler = await pollUntil(async () => {
        const found = await queue.getJobScheduler('purge-expired-refresh-tokens')
        return found?.tz === 'Europe/Paris' ? found : undefined
      })
      expect(scheduler).toMatchObject({ pattern: '30 3 * * *', tz: 'Europe/Paris' })
      // Next 03:30 in Paris.
      const next = new Date(Number(scheduler.next))
      const paris = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Paris',
        hour: '2-digit',
        minute: '2-digit',
      }).format(next)
      expect(paris).toBe('03:30')
    } finally {
      await queue.close()
    }
    await started.close()
  })

  it('each tick runs once, however many workers run', async () => {
    const { module, runs } = tickingSchedule(250)
    const [a, b] = [await worker(module), await worker(module)]
    const from = Date.now()
    await pollUntil(async () => (runs.length >= 8 ? true : undefined), { timeoutMs: 15_000 })
    await Promise.all([a.close(), b.close()])
    const elapsed = Date.now() - from
    const ids = runs.map((r) => r.jobId)
    expect(new Set(ids).size).toBe(ids.length)
    // One run per 250 ms tick, not one per worker.
    expect(runs.length).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 2)
  })

  it('a pause stops the ticks, survives a restart of the worker, and resume brings them back', async () => {
    const { module, runs, name } = tickingSchedule(200)
    const first = await worker(module)
    await pollUntil(async () => (runs.length >= 2 ? true : undefined))
    await first.service('cron').pause(name)
    await sleep(300)
    const atPause = runs.length
    await first.close()
    const second = await worker(module)
    await sleep(1_000)
    expect(runs.length).toBe(atPause)
    expect(await second.service('cron').isPaused(name)).toBe(true)
    const queue = cronQueue()
    try {
      expect(await queue.getJobScheduler(name)).toBeUndefined()
      await second.service('cron').resume(name)
      await pollUntil(async () => (runs.length >= atPause + 2 ? true : undefined))
      expect(await queue.getJobScheduler(name)).toBeDefined()
    } finally {
      await queue.close()
    }
    await second.close()
  })

  it('run now: one run at once, recorded like a tick, with its duration and result', async () => {
    const { module, runs, name } = tickingSchedule()
    const started = await worker(module)
    const cron = started.service('cron')
    const job = await cron.runNow(name, 'test')
    const queue = cronQueue()
    try {
      await jobIn(queue, String(job.id), 'completed')
    } finally {
      await queue.close()
    }
    expect(runs.filter((r) => r.manual)).toHaveLength(1)
    const last = (await cron.lastRun(name)) as RunRecord
    expect(last).toMatchObject({
      jobId: String(job.id),
      manual: true,
      status: 'completed',
      result: { n: 1 },
      durationMs: expect.any(Number),
    })
    await started.close()
  })

  it('a run that fails is recorded as failed, with its error', async () => {
    const name = `broken-${randomUUID().slice(0, 8)}`
    const module = createJobsModule(() => [
      {
        name,
        description: 'always fails',
        pattern: '0 0 1 1 *',
        run: async () => {
          throw new Error('the upstream answered 503')
        },
      },
    ])
    const started = await worker(module)
    await started.service('cron').runNow(name)
    const last = await pollUntil(() => started.service('cron').lastRun(name), { timeoutMs: 20_000 })
    expect(last).toMatchObject({ status: 'failed', error: 'the upstream answered 503' })
    await started.close()
  })

  it('an invalid cron pattern stops the start, naming the schedule', async () => {
    const module = createJobsModule(() => [
      { name: 'broken', description: 'x', pattern: '61 * * * *', run: async () => null },
    ])
    await expect(startWorker({ modules: [...base, module], env: env() })).rejects.toThrow(
      /schedule "broken": invalid cron pattern "61 \* \* \* \*"/,
    )
  })

  it('rejects a time zone that does not exist', async () => {
    await expect(
      startWorker({ modules: [...base, jobs], env: { ...env(), CRON_TIMEZONE: 'Mars/Olympus' } }),
    ).rejects.toThrow(/CRON_TIMEZONE: must be an IANA time zone/)
  })
})

describe('the nightly purges', () => {
  /** A worker without RabbitMQ: outbox rows it has not published stay unpublished. */
  const purger = () => worker(jobs, { AMQP_URL: 'amqp://127.0.0.1:9' })

  const run = async (started: TestWorker, name: string) => {
    const job = await started.service('cron').runNow(name)
    const queue = cronQueue()
    try {
      return (await jobIn(queue, String(job.id), 'completed')).returnvalue
    } finally {
      await queue.close()
    }
  }

  it('purge-expired-refresh-tokens deletes tokens expired over a day ago, and only those', async () => {
    const started = await purger()
    const write = started.service('db').write
    const user = await write
      .insertInto('users')
      .values({ email: `${randomUUID()}@example.com`, username: randomUUID(), password_hash: 'x' })
      .returning('id')
      .executeTakeFirstOrThrow()
    const token = (expiresAt: string) =>
      sql`insert into refresh_tokens (user_id, family_id, token_hash, expires_at)
          values (${user.id}, gen_random_uuid(), ${randomUUID()}, now() + ${expiresAt}::interval)`.execute(
        write,
      )
    await token('-3 days')
    await token('-2 days')
    await token('-1 hour') // expired, but within the day of grace
    await token('7 days')
    expect(await run(started, 'purge-expired-refresh-tokens')).toEqual({ deleted: 2 })
    const left = await sql<{ n: number }>`
      select count(*)::int as n from refresh_tokens where user_id = ${user.id}`.execute(write)
    expect(left.rows[0]?.n).toBe(2)
  })

  it('purge-dispatched-outbox deletes events dispatched everywhere a week ago, keeps the rest', async () => {
    const started = await purger()
    const write = started.service('db').write
    const event = (age: string, queued: boolean, published: boolean) =>
      sql`insert into outbox (name, payload, occurred_at, created_at, queued_at, published_at)
          values ('test.purge', '{}', now(), now() - ${age}::interval,
            ${queued ? sql`now()` : sql`null`}, ${published ? sql`now()` : sql`null`})`.execute(
        write,
      )
    await event('8 days', true, true)
    await event('8 days', true, false)
    await event('1 day', true, true)
    const before = await sql<{ n: number }>`
      select count(*)::int as n from outbox where name = 'test.purge'`.execute(write)
    expect(before.rows[0]?.n).toBe(3)
    expect(await run(started, 'purge-dispatched-outbox')).toEqual({ deleted: 1 })
    const left = await sql<{ n: number }>`
      select count(*)::int as n from outbox where name = 'test.purge'`.execute(write)
    expect(left.rows[0]?.n).toBe(2)
  })
})
