import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { errorMessage } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import { stateOf } from '../../queues/layout.js'
import { readJobs, type SelectedJob } from '../../queues/select.js'
import { confirmDeletion, describeCount } from '../deletion.js'
import type { OptionValues } from '../options.js'
import type { queueGroupOptions, queueRemoveOptions } from './index.js'
import {
  type JobActionData,
  jobActionResult,
  Outcomes,
  queuePrefix,
  removeJob,
  requireQueue,
  usingBullQueue,
} from './shared.js'

type RemoveOptions = OptionValues<typeof queueGroupOptions> &
  OptionValues<typeof queueRemoveOptions>

/**
 * Removes the named jobs (and their logs) in any state but active: a running job is locked by its
 * worker and stays (`locked`). Destructive: asks first, or needs --yes.
 */
export default async function queueRemove(
  ctx: CommandContext,
  name: string,
  ids: string[],
  options: RemoveOptions,
): Promise<CommandResult<JobActionData>> {
  const target = ctx.redisUrl()
  const prefix = queuePrefix(ctx, options)
  const dryRun = Boolean(options.dryRun)
  const wanted = [...new Set(ids)]
  const data = await usingRedis(target, async (redis): Promise<JobActionData> => {
    const keys = await requireQueue(redis, prefix, name)
    const jobs = await readJobs(redis, keys, wanted)
    const present = jobs.filter((job): job is SelectedJob => job !== null)
    await confirmDeletion(
      ctx,
      dryRun,
      async () => present.length,
      (n) => `remove ${describeCount(n, 'job')} from ${name} on ${target.display}`,
    )
    const outcomes = new Outcomes('removed')
    let error: string | null = null
    jobs.forEach((job, i) => {
      if (!job)
        outcomes.add({ id: wanted[i] as string, name: null, outcome: 'missing', error: null }, true)
    })
    if (dryRun) {
      const states = await Promise.all(present.map((job) => stateOf(redis, keys, job.id)))
      present.forEach((job, i) => {
        const outcome = states[i] === 'active' ? 'locked' : 'selected'
        outcomes.add({ id: job.id, name: job.name, outcome, error: null }, true)
      })
    } else {
      try {
        await usingBullQueue(redis, keys, async (queue) => {
          const results = await Promise.all(present.map((job) => removeJob(queue, job)))
          for (const result of results) outcomes.add(result, true)
        })
      } catch (failure) {
        error = errorMessage(failure)
      }
    }
    return {
      prefix,
      queue: name,
      action: 'remove',
      state: 'any',
      dryRun,
      mode: 'ids',
      scanned: wanted.length,
      matched: present.length,
      outcomes: outcomes.counts,
      jobs: outcomes.jobs,
      error,
    }
  })
  return jobActionResult(data, target.display)
}
