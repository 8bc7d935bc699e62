import type { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { formatDuration } from '../../core/duration.js'
import { errorMessage, usageError } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import { createProgress } from '../../core/progress.js'
import { isFinished, type JobState, type QueueKeys } from '../../queues/layout.js'
import { selectJobs, snapshotIds } from '../../queues/select.js'
import { confirmDeletion, describeCount } from '../deletion.js'
import type { OptionValues } from '../options.js'
import type { queueCleanOptions, queueGroupOptions } from './index.js'
import {
  type JobActionData,
  jobActionResult,
  Outcomes,
  queuePrefix,
  removeJob,
  requireQueue,
  usingBullQueue,
} from './shared.js'

type CleanOptions = OptionValues<typeof queueGroupOptions> & OptionValues<typeof queueCleanOptions>

const cleanable: readonly JobState[] = ['completed', 'failed', 'delayed', 'prioritized', 'waiting']

/** Jobs of a finished state that finished before `cutoff`, per BullMQ's own clean, in batches. */
async function cleanFinished(
  redis: Redis,
  keys: QueueKeys,
  state: 'completed' | 'failed',
  cutoff: number,
  limit: number,
  outcomes: Outcomes,
  onProgress: (removed: number) => void,
): Promise<void> {
  await usingBullQueue(redis, keys, async (queue) => {
    let removed = 0
    while (removed < limit) {
      const batch = Math.min(1_000, limit - removed)
      // BullMQ removes jobs finished before now − grace: the grace that lands on `cutoff`
      const ids = await queue.clean(Math.max(0, Date.now() - cutoff), batch, state)
      for (const id of ids) outcomes.add({ id, name: null, outcome: 'removed', error: null })
      removed += ids.length
      onProgress(removed)
      if (ids.length < batch) return
    }
  })
}

/** Waiting, delayed or prioritized jobs added before `cutoff`: read, filtered, removed a page at a time. */
async function cleanPending(
  queue: Queue,
  pages: AsyncGenerator<{ id: string; name: string }[]>,
  outcomes: Outcomes,
  onProgress: (removed: number) => void,
): Promise<void> {
  for await (const page of pages) {
    const results = await Promise.all(page.map((job) => removeJob(queue, job)))
    for (const result of results) outcomes.add(result)
    onProgress(outcomes.counts.removed ?? 0)
  }
}

/**
 * Removes the jobs of a state older than --older-than (finished before it, for completed and
 * failed jobs; added before it, otherwise), at most --limit of them. Destructive: asks first (saying
 * how many), or needs --yes.
 */
export default async function queueClean(
  ctx: CommandContext,
  name: string,
  options: CleanOptions,
): Promise<CommandResult<JobActionData>> {
  const state = options.state
  if (!cleanable.includes(state)) {
    throw usageError(
      `Cannot clean ${state} jobs.`,
      'Pass --state completed, failed, delayed, prioritized or waiting (active jobs are running).',
    )
  }
  if (options.olderThan === undefined) {
    throw usageError(
      'Say how old the jobs to remove are: --older-than.',
      'e.g. `queue clean emails --state completed --older-than 1d`.',
    )
  }
  const olderThan = options.olderThan
  const target = ctx.redisUrl()
  const prefix = queuePrefix(ctx, options)
  const dryRun = Boolean(options.dryRun)
  const limit = options.limit ?? Number.POSITIVE_INFINITY
  const progress = createProgress(ctx.io)
  const data = await usingRedis(target, async (redis): Promise<JobActionData> => {
    const keys = await requireQueue(redis, prefix, name)
    const cutoff = Date.now() - olderThan
    const filter = { until: new Date(cutoff) }
    const select = async () =>
      selectJobs(
        redis,
        keys,
        state,
        await snapshotIds(redis, keys, state, filter, cutoff),
        filter,
        {
          limit: options.limit,
        },
      )
    const count = async () => {
      if (isFinished(state))
        return Math.min(limit, await redis.zcount(keys.state(state), '-inf', cutoff))
      let n = 0
      for await (const page of await select()) n += page.length
      return n
    }
    const age = formatDuration(olderThan)
    await confirmDeletion(
      ctx,
      dryRun,
      count,
      (n) =>
        `remove ${describeCount(n, 'job')} ${state} over ${age} ago from ${name} on ${target.display}`,
    )
    const outcomes = new Outcomes(dryRun ? 'selected' : 'removed')
    let error: string | null = null
    let matched = 0
    const report = (removed: number) =>
      progress.update(`Cleaning ${name}… ${removed.toLocaleString('en-US')} removed`)
    try {
      if (dryRun) {
        for await (const page of await select()) {
          for (const job of page)
            outcomes.add({ id: job.id, name: job.name, outcome: 'selected', error: null })
        }
      } else if (isFinished(state)) {
        await cleanFinished(redis, keys, state, cutoff, limit, outcomes, report)
      } else {
        const pages = await select()
        await usingBullQueue(redis, keys, (queue) => cleanPending(queue, pages, outcomes, report))
      }
    } catch (failure) {
      error = errorMessage(failure)
    }
    progress.done()
    matched = Object.values(outcomes.counts).reduce((sum, n) => sum + n, 0)
    return {
      prefix,
      queue: name,
      action: 'clean',
      state,
      dryRun,
      mode: 'filtered',
      scanned: matched,
      matched,
      outcomes: outcomes.counts,
      jobs: outcomes.jobs,
      error,
    }
  })
  return jobActionResult(data, target.display)
}
