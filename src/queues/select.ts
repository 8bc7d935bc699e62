import type { Redis } from 'ioredis'
import { isFinished, isList, type JobState, type QueueKeys } from './layout.js'

/** Which jobs of a state a command acts on (`--name`, `--reason`, `--since`, `--until`). */
export interface JobFilter {
  name?: string | undefined
  reason?: RegExp | undefined
  since?: Date | undefined
  until?: Date | undefined
}

/** What the selection reads of each job: enough to filter it and to act on it. */
export interface SelectedJob {
  id: string
  name: string
  failedReason: string | null
  /** When it was added (ms). */
  timestamp: number | null
  /** When it finished (ms), for failed and completed jobs. */
  finishedOn: number | null
  /** Added with `lifo`: BullMQ puts it back at the head of the queue. */
  lifo: boolean
}

/** Ids per read: one call of ≈ 1,000 elements is ≈ 1 ms of Redis. */
export const PAGE = 1_000

/** Jobs read (and acted on) together. */
export const SELECT_PAGE = 1_000

/**
 * The ids of `state`, oldest first, read in pages by rank before anything acts on them (acting
 * removes ids from the set and would shift later pages). For failed and completed jobs (scored
 * by when they finished) `--since` and `--until` bound the range on the server, and so does
 * `upTo`: jobs that finish while the command runs are left for another run. Ids only: 100,000
 * of them are about 1.5 MB.
 */
export async function snapshotIds(
  redis: Redis,
  keys: QueueKeys,
  state: JobState,
  filter: Pick<JobFilter, 'since' | 'until'>,
  upTo: number,
): Promise<string[]> {
  const key = keys.state(state)
  const ids: string[] = []
  if (isList(state)) {
    const length = await redis.llen(key)
    for (let start = 0; start < length; start += PAGE) {
      ids.push(...(await redis.lrange(key, start, start + PAGE - 1)))
    }
    if (state === 'waiting') {
      // jobs of a queue paused by an older BullMQ wait in the legacy list
      const legacy = await redis.llen(keys.legacyPaused)
      for (let start = 0; start < legacy; start += PAGE) {
        ids.push(...(await redis.lrange(keys.legacyPaused, start, start + PAGE - 1)))
      }
    }
    return ids.reverse() // new jobs are pushed at the head
  }
  let first = 0
  let last: number
  if (isFinished(state)) {
    const until = Math.min(filter.until?.getTime() ?? upTo, upTo)
    if (filter.since) first = await redis.zcount(key, '-inf', `(${filter.since.getTime()}`)
    last = (await redis.zcount(key, '-inf', String(until))) - 1
  } else {
    last = (await redis.zcard(key)) - 1
  }
  for (let start = first; start <= last; start += PAGE) {
    ids.push(...(await redis.zrange(key, String(start), String(Math.min(start + PAGE - 1, last)))))
  }
  return ids
}

/**
 * Reads what `SelectedJob` needs of each id, in one pipelined round trip (one HMGET per job,
 * microseconds of Redis each); null for a job that is gone. The failure reason, which can be
 * long, is read only `withReason`.
 */
export async function readJobs(
  redis: Redis,
  keys: QueueKeys,
  ids: readonly string[],
  withReason = true,
): Promise<(SelectedJob | null)[]> {
  if (ids.length === 0) return []
  const fields = withReason
    ? ['name', 'timestamp', 'finishedOn', 'opts', 'failedReason']
    : ['name', 'timestamp', 'finishedOn', 'opts']
  const pipeline = redis.pipeline()
  for (const id of ids) pipeline.hmget(keys.job(id), ...fields)
  const replies = (await pipeline.exec()) ?? []
  return replies.map(([error, value], i) => {
    if (error) throw error
    const [name, timestamp, finishedOn, opts, failedReason] = value as (string | null)[]
    if (name === null || name === undefined) return null
    return {
      id: ids[i] as string,
      name,
      failedReason: failedReason ?? null,
      timestamp: timestamp ? Number(timestamp) : null,
      finishedOn: finishedOn ? Number(finishedOn) : null,
      lifo: opts?.includes('"lifo":true') ?? false,
    }
  })
}

/** Whether a job passes the filter (a job read as null, i.e. gone, never does). */
export function matches(
  job: SelectedJob | null,
  filter: JobFilter,
  state: JobState,
): job is SelectedJob {
  if (!job) return false
  if (filter.name !== undefined && job.name !== filter.name) return false
  if (filter.reason && !filter.reason.test(job.failedReason ?? '')) return false
  const at = isFinished(state) ? job.finishedOn : job.timestamp
  if (filter.since && (at === null || at < filter.since.getTime())) return false
  if (filter.until && (at === null || at > filter.until.getTime())) return false
  return true
}

export interface SelectOptions {
  /** Stop after this many matches. */
  limit?: number | undefined
  /** After each page: how many ids were looked at, how many matched so far. */
  onPage?: (scanned: number, matched: number) => void
}

/**
 * The jobs of `ids` that pass `filter`, a page at a time (the next page is read while the caller
 * works on this one), at most `limit` of them. A page may be empty.
 */
export async function* selectJobs(
  redis: Redis,
  keys: QueueKeys,
  state: JobState,
  ids: readonly string[],
  filter: JobFilter,
  options: SelectOptions = {},
): AsyncGenerator<SelectedJob[]> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY
  let matched = 0
  const withReason = filter.reason !== undefined
  const read = (start: number) =>
    readJobs(redis, keys, ids.slice(start, start + SELECT_PAGE), withReason)
  let next = ids.length > 0 ? read(0) : undefined
  try {
    for (let start = 0; next && matched < limit; start += SELECT_PAGE) {
      const page = await next
      next = start + SELECT_PAGE < ids.length ? read(start + SELECT_PAGE) : undefined
      const selected = page
        .filter((job) => matches(job, filter, state))
        .slice(0, limit - matched) as SelectedJob[]
      matched += selected.length
      options.onPage?.(Math.min(start + SELECT_PAGE, ids.length), matched)
      yield selected
    }
  } finally {
    next?.catch(() => {})
  }
}
