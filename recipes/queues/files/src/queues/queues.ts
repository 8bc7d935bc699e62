import { type Job, type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import { z } from 'zod'
import { ServiceUnavailableError } from '../lib/errors.js'
import type { Logger } from '../lib/logger.js'
import { requestContext } from '../lib/request-context.js'
import type { Drainable } from '../lib/shutdown.js'
import type { GaugeSource } from '../module.js'
import type { RedisConnections } from '../redis/connections.js'
import type { JobHandler, JobType } from './jobs.js'

export interface QueueSettings {
  /** BullMQ's key prefix: every key of every queue is `<prefix>:<queue>:…`. */
  prefix: string
  /** Jobs a worker runs at once (per queue, per process). */
  concurrency: number
  /** A running job's lock; a worker that has not renewed it this long has stalled. */
  lockDurationMs: number
  stalledIntervalMs: number
  /** Stalls a job survives; one more and it fails ("job stalled more than allowable limit"). */
  maxStalledCount: number
  failedRetentionDays: number
}

/** The states `backendkit queue list` and the `queue_jobs` gauge count. */
const countedStates = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'failed',
  'completed',
] as const

/** The id of the request that caused `job`, when its producer passed one (`requestId`). */
function requestIdOf(job: Job): string | undefined {
  const requestId = (job.data as { requestId?: unknown } | undefined)?.requestId
  return typeof requestId === 'string' ? requestId : undefined
}

/**
 * Lets the running jobs finish, then closes the worker. While its Redis is unreachable no job can
 * report its result anyway, and BullMQ's graceful close would wait for Redis for ever
 * (taskforcesh/bullmq#4656): the worker is closed at once instead, and the jobs it held are found
 * stalled and run again by another worker.
 */
function closeWorker(worker: Worker, connection: Redis): Promise<void> {
  return worker.close(connection.status !== 'ready')
}

/** Connection errors are reported once by the Redis module; a worker repeats them every second. */
const connectionError = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection is closed|ENOTFOUND/

/**
 * The service's BullMQ queues (`services.queues`). Producers add jobs through the request-path
 * Redis client, which fails fast: a job that cannot be stored is an error the caller sees (a 503
 * on a request), never a silent loss. Each worker gets a connection of its own that waits for
 * Redis (`maxRetriesPerRequest: null`, as BullMQ requires). Every job is kept bounded: completed
 * jobs for a day (at most 1,000 per queue), failed ones for `failedRetentionDays` (at most 50,000),
 * so `backendkit queue inspect` and `retry` still find them.
 */
export class Queues {
  private readonly queues = new Map<string, Queue>()
  private readonly workers: { worker: Worker; connection: Redis }[] = []
  private readonly defaults: JobsOptions

  constructor(
    private readonly settings: QueueSettings,
    private readonly redis: RedisConnections,
    private readonly logger: Logger,
  ) {
    this.defaults = {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: { age: 86_400, count: 1_000 },
      removeOnFail: { age: Math.round(settings.failedRetentionDays * 86_400), count: 50_000 },
    }
  }

  get prefix(): string {
    return this.settings.prefix
  }

  /** The producer side of a queue (created once, on the request-path client). */
  queue(name: string): Queue {
    let queue = this.queues.get(name)
    if (!queue) {
      queue = new Queue(name, {
        connection: this.redis.client,
        prefix: this.settings.prefix,
        defaultJobOptions: this.defaults,
      })
      // Errors of the shared client are the Redis module's to report (once per outage).
      queue.on('error', (error) => this.logger.debug({ err: error, queue: name }, 'queue error'))
      this.queues.set(name, queue)
    }
    return queue
  }

  /**
   * Adds a job of `type`, its data checked by the type's schema. While Redis cannot be reached it
   * throws a 503 at once: the caller learns that the work was not taken.
   */
  async add<Data>(type: JobType<Data>, data: Data, options: JobsOptions = {}): Promise<Job> {
    const checked = type.schema.parse(data)
    if (!this.redis.ready) {
      throw new ServiceUnavailableError('Background work is unavailable; try again shortly', {
        headers: { 'Retry-After': '5' },
      })
    }
    return this.queue(type.queue).add(type.name, checked, { ...type.options, ...options })
  }

  /**
   * Starts a worker for `queue` running `handlers` (by job name), and returns it as the work to
   * drain on shutdown: running jobs finish, then it closes. Data that fails its schema fails the
   * job at once (no retries: it could not succeed); a job name this worker does not know is
   * retried (a newer release's worker may).
   */
  work(queue: string, handlers: readonly JobHandler[]): Drainable {
    const byName = new Map<string, JobHandler>(handlers.map((h) => [h.type.name, h]))
    const connection = this.redis.connect('worker')
    const worker = new Worker(
      queue,
      async (job) => {
        const handler = byName.get(job.name)
        // Retried, not failed for good: during a rolling deploy a newer worker may know it.
        if (!handler) throw new Error(`no handler for "${job.name}" in ${queue} in this worker`)
        const parsed = handler.type.schema.safeParse(job.data)
        if (!parsed.success) {
          throw new UnrecoverableError(`invalid job data: ${z.prettifyError(parsed.error)}`)
        }
        const logger = this.logger.child({ queue, jobId: job.id, job: job.name })
        const run = async () => {
          const started = performance.now()
          const result = await handler.run(parsed.data, { job, logger })
          logger.info({ durationMs: Math.round(performance.now() - started) }, 'job completed')
          return result
        }
        // The request that caused the job: every line the job writes carries its id (reqId), and
        // so do the events it emits, so one id finds the whole story in the server and the worker.
        const requestId = requestIdOf(job)
        return requestId ? requestContext.run({ requestId }, run) : run()
      },
      {
        connection,
        prefix: this.settings.prefix,
        concurrency: this.settings.concurrency,
        lockDuration: this.settings.lockDurationMs,
        stalledInterval: this.settings.stalledIntervalMs,
        maxStalledCount: this.settings.maxStalledCount,
      },
    )
    worker.on('error', (error) => {
      if (!connectionError.test(error.message)) {
        this.logger.error({ err: error, queue }, 'queue worker error')
      }
    })
    worker.on('failed', (job, error) => {
      if (!job) return
      const final =
        job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError
      const requestId = requestIdOf(job)
      this.logger.warn(
        {
          queue,
          jobId: job.id,
          job: job.name,
          attemptsMade: job.attemptsMade,
          err: error,
          ...(requestId ? { reqId: requestId } : {}),
        },
        final
          ? 'job failed for good; `backendkit queue retry` runs it again'
          : 'job failed; retrying',
      )
    })
    worker.on('stalled', (jobId) => {
      this.logger.warn({ queue, jobId }, 'job stalled (its worker died or hung); it runs again')
    })
    this.workers.push({ worker, connection })
    return {
      drain: () => closeWorker(worker, connection),
      abort: () => void worker.close(true),
    }
  }

  /** For readiness: every worker runs and reaches Redis on its own connection. */
  async checkWorkers(): Promise<void> {
    await Promise.all(
      this.workers.map(async ({ worker, connection }) => {
        if (!worker.isRunning()) throw new Error(`the ${worker.name} worker is not running`)
        await connection.ping()
      }),
    )
  }

  /** Jobs per queue and state, for the metrics endpoint (`queue_jobs{queue, state}`). */
  gauge(): GaugeSource {
    return {
      name: 'queue_jobs',
      help: 'BullMQ jobs per queue and state',
      labelNames: ['queue', 'state'],
      collect: async () => {
        const counts = await Promise.all(
          [...this.queues].map(async ([name, queue]) => {
            const byState = await queue.getJobCounts(...countedStates)
            return countedStates.map((state) => ({
              labels: { queue: name, state },
              value: byState[state] ?? 0,
            }))
          }),
        )
        return counts.flat()
      },
    }
  }

  /** Workers first (those not drained yet finish their jobs), then the producers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map(({ worker, connection }) => closeWorker(worker, connection)))
    await Promise.all([...this.queues.values()].map((queue) => queue.close()))
  }
}

/** `maxmemory_policy` from the text of `INFO memory`. */
export function evictionPolicy(info: string): string | undefined {
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1]
}

/**
 * Redis must never evict BullMQ's keys (a job would vanish without a trace): warns at start when
 * `maxmemory-policy` is anything but `noeviction`.
 */
export async function warnUnlessNoEviction(redis: RedisConnections, logger: Logger): Promise<void> {
  try {
    const policy = evictionPolicy(await redis.client.info('memory'))
    if (policy && policy !== 'noeviction') {
      logger.warn(
        { policy },
        `Redis maxmemory-policy is ${policy}: under memory pressure Redis may evict queue keys and lose jobs; set maxmemory-policy noeviction`,
      )
    }
  } catch (error) {
    logger.debug({ err: error }, 'could not read Redis maxmemory-policy')
  }
}
