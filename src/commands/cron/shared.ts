import type { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { BackendkitError, ExitCode } from '../../core/errors.js'
import { type CronLayout, readDefinitions, type ScheduleDefinition } from '../../cron/layout.js'
import { queueKeys } from '../../queues/layout.js'
import { usingBullQueue } from '../queue/shared.js'

/** The published definition of `name`, or exit 1 naming the schedules there are. */
export async function requireSchedule(
  redis: Redis,
  layout: CronLayout,
  prefix: string,
  name: string,
): Promise<ScheduleDefinition> {
  const definitions = await readDefinitions(redis, layout)
  const definition = definitions.get(name)
  if (definition) return definition
  const known = [...definitions.keys()].sort()
  throw new BackendkitError(`No schedule "${name}" under the prefix "${prefix}".`, {
    code: 'E_NO_SCHEDULE',
    exitCode: ExitCode.failure,
    hint: known.length
      ? `The schedules there: ${known.join(', ')}.`
      : 'No schedule is published there: has the worker (npm run worker) started? Check --prefix.',
  })
}

/** The schedule's BullMQ queue, as its definition names it. */
export function usingScheduleQueue<T>(
  redis: Redis,
  definition: ScheduleDefinition,
  fn: (queue: Queue) => Promise<T>,
): Promise<T> {
  return usingBullQueue(redis, queueKeys(definition.queue.prefix, definition.queue.name), fn)
}

/** Creates (or updates) the schedule's job scheduler from its published definition. */
export function upsertScheduler(queue: Queue, definition: ScheduleDefinition): Promise<unknown> {
  return queue.upsertJobScheduler(
    definition.name,
    definition.pattern
      ? { pattern: definition.pattern, tz: definition.tz }
      : { every: definition.every ?? 60_000 },
    definition.template,
  )
}

/** `0 3 * * * (Europe/Paris)` or `every 5m`. */
export function describeWhen(schedule: Pick<ScheduleDefinition, 'pattern' | 'every' | 'tz'>) {
  if (schedule.pattern) return `${schedule.pattern} (${schedule.tz})`
  const ms = schedule.every ?? 0
  return ms % 60_000 === 0 ? `every ${ms / 60_000}m` : `every ${ms / 1000}s`
}
