import type { Queue } from 'bullmq'
import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { errorMessage, usageError } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import { createProgress } from '../../core/progress.js'
import { readJobs, type SelectedJob, selectJobs, snapshotIds } from '../../queues/select.js'
import type { OptionValues } from '../options.js'
import type { queueGroupOptions, queuePromoteOptions } from './index.js'
import {
  actOnJob,
  type JobActionData,
  jobActionResult,
  Outcomes,
  queuePrefix,
  requireQueue,
  usingBullQueue,
} from './shared.js'

type PromoteOptions = OptionValues<typeof queueGroupOptions> &
  OptionValues<typeof queuePromoteOptions>

async function promotePage(queue: Queue, jobs: readonly SelectedJob[]) {
  const { Job } = await import('bullmq')
  return Promise.all(
    jobs.map((job) =>
      actOnJob(job, 'promoted', () => new Job(queue, job.name, {}, {}, job.id).promote()),
    ),
  )
}

/**
 * Runs delayed jobs now: the named ones, or with --all every delayed job (BullMQ's bulk script),
 * or those named --name, at most --limit, the soonest due first. Not destructive: nothing is lost.
 */
export default async function queuePromote(
  ctx: CommandContext,
  name: string,
  ids: string[],
  options: PromoteOptions,
): Promise<CommandResult<JobActionData>> {
  if (ids.length > 0 === Boolean(options.all)) {
    throw usageError(
      ids.length > 0
        ? 'Name jobs or pass --all, not both.'
        : 'Nothing to promote: name jobs, or pass --all.',
      'e.g. `queue promote emails 12` or `queue promote emails --all --name digest`.',
    )
  }
  if (ids.length > 0 && (options.name !== undefined || options.limit !== undefined)) {
    throw usageError(
      '--name and --limit filter --all.',
      'Pass --all with them, or name the jobs alone.',
    )
  }
  const target = ctx.redisUrl()
  const prefix = queuePrefix(ctx, options)
  const dryRun = Boolean(options.dryRun)
  const progress = createProgress(ctx.io)
  const mode: JobActionData['mode'] =
    ids.length > 0
      ? 'ids'
      : options.name !== undefined || options.limit !== undefined
        ? 'filtered'
        : 'bulk'
  const data = await usingRedis(target, async (redis): Promise<JobActionData> => {
    const keys = await requireQueue(redis, prefix, name)
    const outcomes = new Outcomes(dryRun ? 'selected' : 'promoted')
    const keepAll = mode === 'ids'
    let scanned = 0
    let matched = 0
    let error: string | null = null
    const filter = { name: options.name }
    try {
      let pages: AsyncGenerator<SelectedJob[]>
      if (mode === 'ids') {
        const wanted = [...new Set(ids)]
        const [jobs, scores] = await Promise.all([
          readJobs(redis, keys, wanted),
          Promise.all(wanted.map((id) => redis.zscore(keys.state('delayed'), id))),
        ])
        scanned = wanted.length
        jobs.forEach((job, i) => {
          const id = wanted[i] as string
          if (!job) outcomes.add({ id, name: null, outcome: 'missing', error: null }, true)
          else if (scores[i] === null)
            outcomes.add({ id, name: job.name, outcome: 'not-in-state', error: null }, true)
        })
        const due = jobs.filter((job, i): job is SelectedJob => job !== null && scores[i] !== null)
        matched = due.length
        pages = (async function* () {
          yield due
        })()
      } else {
        const all = await snapshotIds(redis, keys, 'delayed', {}, Date.now())
        scanned = all.length
        pages = selectJobs(redis, keys, 'delayed', all, filter, {
          limit: options.limit,
          onPage: (_seen, found) => {
            matched = found
          },
        })
      }
      if (dryRun || mode !== 'bulk') {
        const act = async (queue?: Queue) => {
          for await (const page of pages) {
            if (!queue) {
              for (const job of page)
                outcomes.add(
                  { id: job.id, name: job.name, outcome: 'selected', error: null },
                  keepAll,
                )
              continue
            }
            for (const result of await promotePage(queue, page)) outcomes.add(result, keepAll)
            progress.update(
              `Promoting ${name}… ${(outcomes.counts.promoted ?? 0).toLocaleString('en-US')}`,
            )
          }
        }
        if (dryRun) await act()
        else await usingBullQueue(redis, keys, act)
      } else {
        matched = scanned
        await usingBullQueue(redis, keys, (queue) => queue.promoteJobs({ count: 1_000 }))
        const left = await redis.zcard(keys.state('delayed'))
        outcomes.counts.promoted = Math.max(0, scanned - left)
      }
    } catch (failure) {
      error = errorMessage(failure)
    }
    progress.done()
    return {
      prefix,
      queue: name,
      action: 'promote',
      state: 'delayed',
      dryRun,
      mode,
      scanned,
      matched,
      outcomes: outcomes.counts,
      jobs: outcomes.jobs,
      error,
    }
  })
  return jobActionResult(data, target.display)
}
