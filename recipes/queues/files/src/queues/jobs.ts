import type { Job, JobsOptions } from 'bullmq'
import type { z } from 'zod'
import type { Logger } from '../lib/logger.js'

/**
 * A kind of job: the queue it goes to, its name there, and the zod schema of its data. The
 * schema is checked when the job is added (a producer cannot enqueue what no worker can run)
 * and again when it is processed (data written by an older release, or by hand, is refused
 * instead of half-run).
 */
export interface JobType<Data> {
  queue: string
  name: string
  schema: z.ZodType<Data>
  /** Attempts, backoff, … for jobs of this kind, over the queue's defaults. */
  options?: JobsOptions
}

/**
 * @example
 * const welcomeEmail = defineJob({
 *   queue: 'emails',
 *   name: 'welcome',
 *   schema: z.object({ userId: z.uuid() }),
 * })
 */
export function defineJob<Schema extends z.ZodType>(type: {
  queue: string
  name: string
  schema: Schema
  options?: JobsOptions
}): JobType<z.output<Schema>> {
  return type as JobType<z.output<Schema>>
}

export interface JobContext {
  job: Job
  /** Carries the queue, the job id and the request that caused the job, when there was one. */
  logger: Logger
}

/** What runs a kind of job in the worker; what it returns is kept as the job's return value. */
export interface JobHandler<Data = unknown> {
  type: JobType<Data>
  // A method (not a function property), so a handler of any data is a JobHandler<unknown>.
  run(data: Data, context: JobContext): Promise<unknown>
}

export function handleJob<Data>(
  type: JobType<Data>,
  run: (data: Data, context: JobContext) => Promise<unknown>,
): JobHandler<Data> {
  return { type, run }
}
