import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { testServices } from '../support/env.js'
import { useRedisPrefix } from '../support/services.js'

// `backendkit cron` on schedules published the way the generated service's worker publishes them
// (recipe `jobs`, README "Redis key layout"), run by a worker of the test's own that records each
// run as the service does.

const space = useRedisPrefix('cron')
const redis = new Redis(testServices.redisUrl, { maxRetriesPerRequest: null })
let run = 0
let prefix: string
let queuePrefix: string
const closers: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const close of closers) await close()
  redis.disconnect()
})
beforeEach(() => {
  prefix = `${space.prefix}t${++run}:`
  queuePrefix = `${prefix}bull`
})

interface Published {
  name: string
  pattern?: string
  every?: number
  run?: () => Promise<unknown>
}

/** Publishes the schedules and creates their schedulers, as the service's worker does at start. */
async function publish(schedules: Published[]): Promise<Queue> {
  const queue = new Queue('cron', { connection: redis, prefix: queuePrefix })
  closers.push(() => queue.close())
  for (const s of schedules) {
    const template = { name: s.name, data: {}, opts: { attempts: 1 } }
    const definition = {
      name: s.name,
      description: `the ${s.name} schedule`,
      pattern: s.pattern ?? null,
      every: s.every ?? null,
      tz: 'Europe/Paris',
      queue: { prefix: queuePrefix, name: 'cron' },
      template,
      publishedAt: new Date().toISOString(),
    }
    await redis.hset(`${prefix}cron:schedules`, s.name, JSON.stringify(definition))
    await queue.upsertJobScheduler(
      s.name,
      s.pattern ? { pattern: s.pattern, tz: 'Europe/Paris' } : { every: s.every ?? 60_000 },
      template,
    )
  }
  return queue
}

/** A worker running the schedules' code and recording each run, as the service's does. */
function work(schedules: Published[]): Worker {
  const worker = new Worker(
    'cron',
    async (job) => {
      const schedule = schedules.find((s) => s.name === job.name)
      const startedAt = new Date()
      const record = (fields: Record<string, unknown>) =>
        redis.hset(
          `${prefix}cron:runs`,
          job.name,
          JSON.stringify({
            jobId: job.id,
            manual: job.data.manual === true,
            startedAt: startedAt.toISOString(),
            durationMs: Date.now() - startedAt.getTime(),
            ...fields,
          }),
        )
      try {
        const result = (await schedule?.run?.()) ?? null
        await record({ status: 'completed', result })
        return result
      } catch (error) {
        await record({ status: 'failed', error: (error as Error).message })
        throw error
      }
    },
    { connection: redis.duplicate(), prefix: queuePrefix },
  )
  closers.push(async () => {
    await worker.close()
    ;(worker.opts.connection as Redis).disconnect()
  })
  return worker
}

function cron(args: string[]) {
  return runCli(['cron', ...args, '--prefix', prefix], { env: { REDIS_URL: space.url } })
}
const json = async (args: string[]) => {
  const result = await cron([...args, '--json'])
  return { code: result.code, data: JSON.parse(result.stdout), stderr: result.stderr }
}

describe('cron list', () => {
  it('shows every schedule: pattern or interval, time zone, next run, last run, paused', async () => {
    const schedules = [
      { name: 'nightly-purge', pattern: '30 3 * * *', run: async () => ({ deleted: 3 }) },
      { name: 'heartbeat', every: 3_600_000 },
    ]
    await publish(schedules)
    work(schedules)
    expect((await json(['run', 'nightly-purge'])).code).toBe(0)
    await json(['pause', 'heartbeat'])
    const { code, data } = await json(['list'])
    expect(code).toBe(0)
    expect(data.prefix).toBe(prefix)
    expect(data.schedules).toEqual([
      {
        name: 'heartbeat',
        description: 'the heartbeat schedule',
        pattern: null,
        every: 3_600_000,
        tz: 'Europe/Paris',
        queue: 'cron',
        nextRun: null,
        paused: true,
        pausedAt: expect.any(String),
        lastRun: expect.anything(), // its first tick ran at once
      },
      {
        name: 'nightly-purge',
        description: 'the nightly-purge schedule',
        pattern: '30 3 * * *',
        every: null,
        tz: 'Europe/Paris',
        queue: 'cron',
        nextRun: expect.stringMatching(/T0[12]:30:00.000Z$/), // 03:30 in Paris
        paused: false,
        pausedAt: null,
        lastRun: {
          jobId: expect.any(String),
          manual: true,
          startedAt: expect.any(String),
          durationMs: expect.any(Number),
          status: 'completed',
          result: { deleted: 3 },
        },
      },
    ])
    const text = await cron(['list'])
    expect(text.stdout).toMatch(/^SCHEDULE\s+WHEN\s+NEXT RUN\s+LAST RUN/m)
    expect(text.stdout).toMatch(/^heartbeat\s+every 60m\s+paused/m)
    expect(text.stdout).toMatch(
      /^nightly-purge\s+30 3 \* \* \* \(Europe\/Paris\)\s+\S+Z\s+\S+ completed in \d+ ms \(run by hand\)/m,
    )
  })

  it('nothing published lists nothing, exit 0', async () => {
    const result = await cron(['list'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('No schedules published')
  })
})

describe('cron run', () => {
  it('runs once now and waits for the result; a failure is exit 1 with its error', async () => {
    const schedules = [
      { name: 'report', pattern: '0 0 1 1 *', run: async () => ({ rows: 42 }) },
      {
        name: 'sync',
        pattern: '0 0 1 1 *',
        run: async () => {
          throw new Error('upstream answered 503')
        },
      },
    ]
    await publish(schedules)
    work(schedules)
    const ok = await json(['run', 'report'])
    expect(ok.code).toBe(0)
    expect(ok.data).toMatchObject({
      prefix,
      name: 'report',
      status: 'completed',
      result: { rows: 42 },
      durationMs: expect.any(Number),
      error: null,
    })
    const failed = await json(['run', 'sync'])
    expect(failed.code).toBe(1)
    expect(failed.data).toMatchObject({ status: 'failed', error: 'upstream answered 503' })
    const last = JSON.parse((await redis.hget(`${prefix}cron:runs`, 'sync')) as string)
    expect(last).toMatchObject({ manual: true, status: 'failed' })
  })

  it('without a worker: --no-wait queues it (exit 0); waiting times out (exit 1)', async () => {
    const queue = await publish([{ name: 'report', pattern: '0 0 1 1 *' }])
    const queued = await json(['run', 'report', '--no-wait'])
    expect(queued.code).toBe(0)
    expect(queued.data.status).toBe('queued')
    expect(await queue.getJobState(queued.data.jobId)).toBe('waiting')
    const timedOut = await json(['run', 'report', '--timeout', '300ms'])
    expect(timedOut.code).toBe(1)
    expect(timedOut.data.status).toBe('timed-out')
    expect(timedOut.stderr).toContain('waiting for a worker')
  })

  it('an unknown schedule is exit 1, naming the ones there are', async () => {
    await publish([{ name: 'report', pattern: '0 0 1 1 *' }])
    const result = await cron(['run', 'reprot'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('No schedule "reprot"')
    expect(result.stderr).toMatch(/hint: The schedules there: report\./)
  })
})

describe('cron pause and resume', () => {
  it('pause marks it and removes its scheduler; resume creates it again from the definition', async () => {
    const queue = await publish([{ name: 'report', pattern: '0 4 * * *' }])
    const paused = await json(['pause', 'report'])
    expect(paused.data).toEqual({
      prefix,
      name: 'report',
      paused: true,
      changed: true,
      nextRun: null,
    })
    expect(await redis.hexists(`${prefix}cron:paused`, 'report')).toBe(1)
    expect(await queue.getJobScheduler('report')).toBeUndefined()
    expect((await json(['pause', 'report'])).data.changed).toBe(false)
    const resumed = await json(['resume', 'report'])
    expect(resumed.data).toMatchObject({
      paused: false,
      changed: true,
      nextRun: expect.any(String),
    })
    expect(await redis.hexists(`${prefix}cron:paused`, 'report')).toBe(0)
    expect(await queue.getJobScheduler('report')).toMatchObject({
      pattern: '0 4 * * *',
      tz: 'Europe/Paris',
    })
    expect((await json(['resume', 'report'])).data.changed).toBe(false)
  })
})
