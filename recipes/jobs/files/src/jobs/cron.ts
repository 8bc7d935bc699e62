import type { Job, JobsOptions } from 'bullmq'
import { CronExpressionParser } from 'cron-parser'
import { z } from 'zod'
import type { Logger } from '../lib/logger.js'
import { withRetry } from '../lib/retry.js'
import { defineJob, handleJob, type JobHandler, type JobType } from '../queues/jobs.js'
import type { Queues } from '../queues/queues.js'
import type { RedisConnections } from '../redis/connections.js'

/** What a schedule's code gets for one run. */
export interface RunContext {
  logger: Logger
  /** True for a run asked for now (`backendkit cron run`), false for a tick. */
  manual: boolean
  /** The BullMQ job of this run: one per tick, whichever instance runs it. */
  job: Job
}

/** One schedule: when (a cron pattern in CRON_TIMEZONE, or every n ms) and what it runs. */
export interface Schedule {
  /** Lowercase words with dashes: the scheduler's id and what `backendkit cron` calls it. */
  name: string
  description: string
  pattern?: string
  every?: number
  /** What it returns is recorded as the run's result (keep it small: counts, ids). */
  run(context: RunContext): Promise<unknown>
}

/**
 * A schedule as published under the Redis key prefix (`<prefix>cron:schedules`), for
 * `backendkit cron` to list, run, pause and resume it without reading code: everything needed to
 * create its job scheduler again.
 */
export interface ScheduleDefinition {
  name: string
  description: string
  pattern: string | null
  every: number | null
  tz: string
  queue: { prefix: string; name: string }
  template: { name: string; data: Record<string, never>; opts: JobsOptions }
  publishedAt: string
}

/** The last run of a schedule (`<prefix>cron:runs`). */
export interface RunRecord {
  jobId: string
  manual: boolean
  startedAt: string
  durationMs: number
  status: 'completed' | 'failed' | 'skipped'
  result?: unknown
  error?: string
}

export const CRON_QUEUE = 'cron'

const tick = z.object({ manual: z.boolean().optional(), requestedBy: z.string().optional() })

/** A tick that fails is tried again a few times; each tick is a new job anyway. */
const tickOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 10_000 },
  removeOnComplete: { count: 200 },
  removeOnFail: { age: 14 * 86_400, count: 1_000 },
}

/**
 * Cron schedules as BullMQ job schedulers (`services.cron`). A scheduler makes one job per tick,
 * with an id derived from the tick's time, so however many workers run, each tick runs once. The
 * worker publishes every schedule's definition under the Redis key prefix, and a pause is a mark
 * there (`<prefix>cron:paused`) that every worker honours at start, so it survives restarts and
 * deploys; `resume` creates the scheduler again from the published definition. BullMQ itself has
 * no per-scheduler pause: pausing removes the scheduler, and a tick already queued is skipped.
 */
export class Cron {
  readonly keys: { schedules: string; paused: string; runs: string }
  private readonly types = new Map<string, JobType<z.infer<typeof tick>>>()

  constructor(
    private readonly schedules: readonly Schedule[],
    private readonly queues: Queues,
    private readonly redis: RedisConnections,
    private readonly timezone: string,
    private readonly logger: Logger,
  ) {
    this.keys = {
      schedules: redis.key('cron', 'schedules'),
      paused: redis.key('cron', 'paused'),
      runs: redis.key('cron', 'runs'),
    }
    for (const schedule of schedules) {
      if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(schedule.name)) {
        throw new Error(`schedule name "${schedule.name}": use lowercase words and dashes`)
      }
      if ((schedule.pattern === undefined) === (schedule.every === undefined)) {
        throw new Error(`schedule "${schedule.name}": give a pattern or an interval, not both`)
      }
      // A bad pattern stops the start, naming the schedule, instead of failing in the background.
      if (schedule.pattern !== undefined) {
        try {
          CronExpressionParser.parse(schedule.pattern, { tz: timezone })
        } catch (error) {
          throw new Error(
            `schedule "${schedule.name}": invalid cron pattern "${schedule.pattern}" (${(error as Error).message})`,
          )
        }
      }
      this.types.set(
        schedule.name,
        defineJob({ queue: CRON_QUEUE, name: schedule.name, schema: tick }),
      )
    }
  }

  definition(schedule: Schedule): ScheduleDefinition {
    return {
      name: schedule.name,
      description: schedule.description,
      pattern: schedule.pattern ?? null,
      every: schedule.every ?? null,
      tz: this.timezone,
      queue: { prefix: this.queues.prefix, name: CRON_QUEUE },
      template: { name: schedule.name, data: {}, opts: tickOptions },
      publishedAt: new Date().toISOString(),
    }
  }

  /**
   * Publishes the definitions (dropping those of schedules no longer in the code, and their
   * schedulers), then creates or updates each scheduler, or removes it while paused. Idempotent:
   * every worker does it at start.
   */
  async publish(): Promise<void> {
    const client = this.redis.client
    const queue = this.queues.queue(CRON_QUEUE)
    const names = new Set(this.schedules.map((s) => s.name))
    const published = await client.hkeys(this.keys.schedules)
    const gone = published.filter((name) => !names.has(name))
    if (gone.length > 0) await client.hdel(this.keys.schedules, ...gone)
    for (const scheduler of await queue.getJobSchedulers()) {
      if (!names.has(scheduler.key)) await queue.removeJobScheduler(scheduler.key)
    }
    const pipeline = client.pipeline()
    for (const schedule of this.schedules) {
      pipeline.hset(this.keys.schedules, schedule.name, JSON.stringify(this.definition(schedule)))
    }
    await pipeline.exec()
    for (const schedule of this.schedules) await this.applyPause(schedule)
  }

  /** The scheduler as the pause mark says: absent while paused, up to date otherwise. */
  private async applyPause(schedule: Schedule): Promise<void> {
    const queue = this.queues.queue(CRON_QUEUE)
    if (await this.isPaused(schedule.name)) {
      await queue.removeJobScheduler(schedule.name)
      return
    }
    const { template } = this.definition(schedule)
    await queue.upsertJobScheduler(
      schedule.name,
      {
        ...(schedule.pattern ? { pattern: schedule.pattern, tz: this.timezone } : {}),
        ...(schedule.every ? { every: schedule.every } : {}),
      },
      template,
    )
    // A pause that landed while the scheduler was being written wins.
    if (await this.isPaused(schedule.name)) await queue.removeJobScheduler(schedule.name)
  }

  /** Publishes at start, retrying in the background while Redis cannot be reached. */
  start(signal: AbortSignal): Promise<void> {
    return withRetry(() => this.publish(), {
      retries: Number.POSITIVE_INFINITY,
      baseMs: 500,
      maxMs: 10_000,
      signal,
      onRetry: (error, retry) => {
        if (retry === 1)
          this.logger.warn({ err: error }, 'cannot publish the schedules yet; retrying')
      },
    }).catch((error) => {
      if (!signal.aborted) this.logger.error({ err: error }, 'schedules not published')
    })
  }

  async isPaused(name: string): Promise<boolean> {
    return (await this.redis.client.hexists(this.keys.paused, name)) === 1
  }

  /** Stops the schedule on every instance until `resume`, restarts included. */
  async pause(name: string): Promise<void> {
    this.scheduleOf(name)
    await this.redis.client.hset(this.keys.paused, name, new Date().toISOString())
    await this.queues.queue(CRON_QUEUE).removeJobScheduler(name)
  }

  async resume(name: string): Promise<void> {
    const schedule = this.scheduleOf(name)
    await this.redis.client.hdel(this.keys.paused, name)
    await this.applyPause(schedule)
  }

  /** One run now, recorded like a tick (a paused schedule runs too: it was asked for). */
  async runNow(name: string, requestedBy = 'service'): Promise<Job> {
    return this.queues.add(this.typeOf(name), { manual: true, requestedBy })
  }

  async lastRun(name: string): Promise<RunRecord | undefined> {
    const raw = await this.redis.client.hget(this.keys.runs, name)
    return raw ? (JSON.parse(raw) as RunRecord) : undefined
  }

  private scheduleOf(name: string): Schedule {
    const schedule = this.schedules.find((s) => s.name === name)
    if (!schedule) throw new Error(`no schedule named "${name}"`)
    return schedule
  }

  private typeOf(name: string): JobType<z.infer<typeof tick>> {
    const type = this.types.get(name)
    if (!type) throw new Error(`no schedule named "${name}"`)
    return type
  }

  /** The job handlers of the `cron` queue: one per schedule. */
  handlers(): JobHandler[] {
    return this.schedules.map((schedule) =>
      handleJob(this.typeOf(schedule.name), async (data, { job, logger }) => {
        const manual = data.manual === true
        const startedAt = new Date()
        if (!manual && (await this.isPaused(schedule.name))) {
          await this.record(schedule.name, {
            jobId: String(job.id),
            manual,
            startedAt: startedAt.toISOString(),
            durationMs: 0,
            status: 'skipped',
          })
          return { skipped: 'paused' }
        }
        const runLogger = logger.child({ schedule: schedule.name, manual })
        try {
          const result = await schedule.run({ logger: runLogger, manual, job })
          await this.record(schedule.name, {
            jobId: String(job.id),
            manual,
            startedAt: startedAt.toISOString(),
            durationMs: Date.now() - startedAt.getTime(),
            status: 'completed',
            result: result ?? null,
          })
          runLogger.info({ result, durationMs: Date.now() - startedAt.getTime() }, 'schedule ran')
          return result ?? null
        } catch (error) {
          await this.record(schedule.name, {
            jobId: String(job.id),
            manual,
            startedAt: startedAt.toISOString(),
            durationMs: Date.now() - startedAt.getTime(),
            status: 'failed',
            error: error instanceof Error ? error.message : String(error),
          })
          throw error
        }
      }),
    )
  }

  private async record(name: string, run: RunRecord): Promise<void> {
    await this.redis.client.hset(this.keys.runs, name, JSON.stringify(run)).catch((error) => {
      this.logger.warn({ err: error, schedule: name }, 'run not recorded')
    })
  }
}
