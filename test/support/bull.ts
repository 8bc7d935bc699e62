import { type Job, Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { testServices } from './env.js'

export interface SeededJob {
  name: string
  data?: Record<string, unknown>
  /** Fail with this reason (else it completes). */
  fail?: string
}

/**
 * Real BullMQ queues for the `queue` and `cron` commands to work on, under a prefix of the
 * test's own: jobs really added, run by a real worker, failed or completed by it.
 */
export class BullFixture {
  readonly redis = new Redis(testServices.redisUrl, { maxRetriesPerRequest: null })
  private readonly queues: Queue[] = []

  constructor(readonly prefix: string) {}

  queue(name: string): Queue {
    const queue = new Queue(name, { connection: this.redis, prefix: this.prefix })
    this.queues.push(queue)
    return queue
  }

  /** Adds the jobs and runs them once (attempts: 1): failed or completed, in this order. */
  async run(name: string, jobs: readonly SeededJob[]): Promise<Job[]> {
    const queue = this.queue(name)
    const added: Job[] = []
    for (const job of jobs) {
      added.push(
        await queue.add(job.name, { ...job.data, fail: job.fail ?? null }, { attempts: 1 }),
      )
    }
    const worker = new Worker(
      name,
      async (job) => {
        if (job.data.fail) throw new Error(job.data.fail)
        return { ok: true }
      },
      { connection: this.redis.duplicate(), prefix: this.prefix, concurrency: 1 },
    )
    try {
      const deadline = Date.now() + 15_000
      for (;;) {
        const counts = await queue.getJobCounts('completed', 'failed')
        if ((counts.completed ?? 0) + (counts.failed ?? 0) >= added.length) break
        if (Date.now() > deadline)
          throw new Error(`jobs of ${name} not finished: ${JSON.stringify(counts)}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    } finally {
      await worker.close()
      await (worker.opts.connection as Redis).quit().catch(() => {})
    }
    return added
  }

  /** `n` failed jobs named `name`, each failing with `reason`. */
  failing(name: string, n: number, reason = 'boom'): SeededJob[] {
    return Array.from({ length: n }, () => ({ name, fail: reason }))
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close()))
    this.redis.disconnect()
  }
}
