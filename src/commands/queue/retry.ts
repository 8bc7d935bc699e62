import type { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { errorMessage, usageError } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import { createProgress, type Progress } from '../../core/progress.js'
import type { FinishedState, QueueKeys } from '../../queues/layout.js'
import { readJobs, type SelectedJob, selectJobs, snapshotIds } from '../../queues/select.js'
import type { OptionValues } from '../options.js'
import type { queueGroupOptions, queueRetryOptions } from './index.js'
import {
  actOnJob,
  type JobActionData,
  type JobOutcome,
  jobActionResult,
  Outcomes,
  queuePrefix,
  requireQueue,
  usingBullQueue,
} from './shared.js'

type RetryOptions = OptionValues<typeof queueGroupOptions> & OptionValues<typeof queueRetryOptions>

const fmt = (n: number) => n.toLocaleString('en-US')

/** How the jobs are chosen: named, every one (BullMQ's bulk script), or read and filtered. */
function chooseMode(ids: string[], options: RetryOptions): JobActionData['mode'] {
  const filtered = ['name', 'reason', 'since', 'until', 'limit'].filter(
    (key) => options[key as keyof RetryOptions] !== undefined,
  )
  if (ids.length > 0 && options.all) {
    throw usageError(
      'Name jobs or pass --all, not both.',
      'e.g. `queue retry emails 12 13` or `--all`.',
    )
  }
  if (ids.length > 0 && filtered.length > 0) {
    throw usageError(
      `--${filtered[0]} filters --all; it does not apply to named jobs.`,
      `Pass --all with the filters, or name the jobs alone.`,
    )
  }
  if (ids.length === 0 && !options.all) {
    throw usageError(
      'Nothing to retry: name jobs, or pass --all (with filters such as --name or --reason).',
      'e.g. `queue retry emails --all --reason timeout --since 1h --dry-run`.',
    )
  }
  if (ids.length > 0) return 'ids'
  return filtered.length > 0 ? 'filtered' : 'bulk'
}

/** Retries a page of jobs concurrently (one pipelined round trip); outcomes in order. */
export async function retryPage(
  queue: Queue,
  jobs: readonly SelectedJob[],
  state: FinishedState,
): Promise<JobOutcome[]> {
  const { Job } = await import('bullmq')
  return Promise.all(
    jobs.map((job) =>
      actOnJob(job, 'retried', () =>
        new Job(queue, job.name, {}, job.lifo ? { lifo: true } : {}, job.id).retry(state),
      ),
    ),
  )
}

/**
 * Retries failed (or completed) jobs: the named ones; with --all and no filter every one, through
 * BullMQ's own bulk script (`retryJobs`, 1,000 jobs per call); with filters or --limit, the ids
 * are read a page at a time, each job's name and reason checked, and the matching ones retried
 * a page at a time, concurrently (BullMQ's `retryJobs({count})` cannot filter, and `count` is a
 * batch size, not a limit). Jobs that finish while it runs are left alone. Progress shows on a
 * terminal; the result counts every outcome.
 */
export default async function queueRetry(
  ctx: CommandContext,
  name: string,
  ids: string[],
  options: RetryOptions,
): Promise<CommandResult<JobActionData>> {
  const mode = chooseMode(ids, options)
  if (options.state !== 'failed' && options.state !== 'completed') {
    throw usageError(
      `Only failed or completed jobs can be retried, not ${options.state} ones.`,
      'Pass --state failed (the default) or --state completed.',
    )
  }
  const state: FinishedState = options.state
  const target = ctx.redisUrl()
  const prefix = queuePrefix(ctx, options)
  const dryRun = Boolean(options.dryRun)
  const progress = createProgress(ctx.io)
  const data = await usingRedis(target, async (redis) => {
    const keys = await requireQueue(redis, prefix, name)
    const base = { prefix, queue: name, action: 'retry', state, dryRun, mode } as const
    if (mode === 'ids') return retryNamed(redis, keys, [...new Set(ids)], state, dryRun, base)
    if (mode === 'bulk') return retryAll(redis, keys, state, dryRun, progress, base)
    return retryFiltered(redis, keys, state, options, dryRun, progress, base)
  })
  progress.done()
  return jobActionResult(data, target.display)
}

type Base = Pick<JobActionData, 'prefix' | 'queue' | 'action' | 'state' | 'dryRun' | 'mode'>

async function retryNamed(
  redis: Redis,
  keys: QueueKeys,
  ids: string[],
  state: FinishedState,
  dryRun: boolean,
  base: Base,
): Promise<JobActionData> {
  const outcomes = new Outcomes('retried')
  const [jobs, scores] = await Promise.all([
    readJobs(redis, keys, ids),
    Promise.all(ids.map((id) => redis.zscore(keys.state(state), id))),
  ])
  const present = jobs.filter((job, i): job is SelectedJob => job !== null && scores[i] !== null)
  jobs.forEach((job, i) => {
    const id = ids[i] as string
    if (!job) outcomes.add({ id, name: null, outcome: 'missing', error: null }, true)
    else if (scores[i] === null)
      outcomes.add({ id, name: job.name, outcome: 'not-in-state', error: null }, true)
    else if (dryRun) outcomes.add({ id, name: job.name, outcome: 'selected', error: null }, true)
  })
  let error: string | null = null
  if (!dryRun && present.length > 0) {
    try {
      await usingBullQueue(redis, keys, async (queue) => {
        for (const outcome of await retryPage(queue, present, state)) outcomes.add(outcome, true)
      })
    } catch (failure) {
      error = errorMessage(failure)
    }
  }
  return {
    ...base,
    scanned: ids.length,
    matched: present.length,
    outcomes: outcomes.counts,
    jobs: outcomes.jobs,
    error,
  }
}

async function retryAll(
  redis: Redis,
  keys: QueueKeys,
  state: FinishedState,
  dryRun: boolean,
  progress: Progress,
  base: Base,
): Promise<JobActionData> {
  const startedAt = Date.now()
  const key = keys.state(state)
  const matched = await redis.zcount(key, '-inf', startedAt)
  const sample = await redis.zrangebyscore(key, '-inf', startedAt, 'LIMIT', 0, 20)
  const result: JobActionData = {
    ...base,
    scanned: matched,
    matched,
    outcomes: dryRun ? { selected: matched } : {},
    jobs: dryRun ? sample.map((id) => ({ id, name: null, outcome: 'selected', error: null })) : [],
    error: null,
  }
  if (dryRun || matched === 0) return result
  // BullMQ moves 1,000 jobs per call (≈ 4 ms of Redis each) until none finished before `startedAt`
  // is left; the count left is polled for the progress line.
  const left = () => redis.zcount(key, '-inf', startedAt)
  const poll = setInterval(() => {
    void left().then(
      (n) => progress.update(`Retrying ${keys.name}… ${fmt(matched - n)} of ${fmt(matched)}`),
      () => {},
    )
  }, 200)
  try {
    await usingBullQueue(redis, keys, (queue) =>
      queue.retryJobs({ state, count: 1_000, timestamp: startedAt }),
    )
  } catch (failure) {
    result.error = errorMessage(failure)
  } finally {
    clearInterval(poll)
  }
  const remaining = await left().catch(() => matched)
  const retried = Math.max(0, matched - remaining)
  result.outcomes = { retried, ...(remaining > 0 ? { 'not-retried': remaining } : {}) }
  return result
}

async function retryFiltered(
  redis: Redis,
  keys: QueueKeys,
  state: FinishedState,
  options: RetryOptions,
  dryRun: boolean,
  progress: Progress,
  base: Base,
): Promise<JobActionData> {
  const filter = {
    name: options.name,
    reason: options.reason,
    since: options.since,
    until: options.until,
  }
  const ids = await snapshotIds(redis, keys, state, filter, Date.now())
  const outcomes = new Outcomes(dryRun ? 'selected' : 'retried')
  let scanned = 0
  let matched = 0
  let error: string | null = null
  const pages = selectJobs(redis, keys, state, ids, filter, {
    limit: options.limit,
    onPage: (seen, found) => {
      scanned = seen
      matched = found
    },
  })
  const report = () =>
    progress.update(
      dryRun
        ? `Selecting… ${fmt(matched)} of ${fmt(scanned)} looked at match`
        : `Retrying ${keys.name}… ${fmt(outcomes.counts.retried ?? 0)} retried, ${fmt(scanned)} of ${fmt(ids.length)} looked at`,
    )
  const run = async (queue: Queue | undefined) => {
    // Two pages in flight: this page's retries go out while the last page's answers come in.
    let previous: Promise<void> | undefined
    for await (const page of pages) {
      if (!queue) {
        for (const job of page) {
          outcomes.add({ id: job.id, name: job.name, outcome: 'selected', error: null })
        }
        report()
        continue
      }
      const current = retryPage(queue, page, state).then((results) => {
        for (const outcome of results) outcomes.add(outcome)
        report()
        const lost = results.length > 0 && results.every((r) => r.outcome === 'error')
        if (lost && redis.status !== 'ready') {
          throw new Error(results[0]?.error ?? 'the connection to Redis was lost')
        }
      })
      current.catch(() => {}) // awaited below, in order
      if (previous) await previous
      previous = current
    }
    await previous
  }
  try {
    if (dryRun) await run(undefined)
    else await usingBullQueue(redis, keys, run)
  } catch (failure) {
    error = errorMessage(failure)
  }
  return { ...base, scanned, matched, outcomes: outcomes.counts, jobs: outcomes.jobs, error }
}
