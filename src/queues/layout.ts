import type { Redis } from 'ioredis'
import { prefixedPattern } from '../redis/glob.js'
import { scanKeys } from '../redis/scan.js'

/*
 * BullMQ's keys (6.x), as `backendkit queue` reads them without loading BullMQ. `<q>` is
 * `<prefix>:<queue>`; queue names never contain `:` (BullMQ refuses them).
 *
 *   <q>:meta            HASH   the queue exists; field `paused` while paused
 *   <q>:wait            LIST   waiting jobs (newest at the head)
 *   <q>:paused          LIST   waiting jobs of a queue paused by BullMQ < 5 (legacy)
 *   <q>:active          LIST   running jobs
 *   <q>:prioritized     ZSET   waiting jobs with a priority
 *   <q>:delayed         ZSET   delayed jobs (score = time × 4096 + sequence)
 *   <q>:waiting-children ZSET  parents waiting for their children
 *   <q>:completed       ZSET   score = finishedOn (ms)
 *   <q>:failed          ZSET   score = finishedOn (ms)
 *   <q>:<jobId>         HASH   name, data, opts, timestamp, processedOn, finishedOn, failedReason,
 *                              stacktrace, returnvalue, atm (attempts made), ats (started), stc
 *   <q>:<jobId>:logs    LIST   job.log() lines
 */

export const jobStates = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
  'completed',
] as const
export type JobState = (typeof jobStates)[number]

/** States kept in a sorted set scored by when the job finished. */
export const finishedStates = ['failed', 'completed'] as const
export type FinishedState = (typeof finishedStates)[number]

export function isFinished(state: JobState): state is FinishedState {
  return state === 'failed' || state === 'completed'
}

export interface QueueKeys {
  prefix: string
  name: string
  /** `<prefix>:<queue>:` */
  base: string
  meta: string
  job(id: string): string
  /** The key holding the jobs of a state (`waiting` is the `wait` list). */
  state(state: JobState): string
  /** The legacy `paused` list. */
  legacyPaused: string
}

export function queueKeys(prefix: string, name: string): QueueKeys {
  const base = `${prefix}:${name}:`
  return {
    prefix,
    name,
    base,
    meta: `${base}meta`,
    job: (id) => `${base}${id}`,
    state: (state) => `${base}${state === 'waiting' ? 'wait' : state}`,
    legacyPaused: `${base}paused`,
  }
}

export const isList = (state: JobState) => state === 'waiting' || state === 'active'

/** The queue names under `prefix`, found by SCAN (never KEYS) for `<prefix>:*:meta`, sorted. */
export async function findQueues(redis: Redis, prefix: string): Promise<string[]> {
  const names = new Set<string>()
  const start = `${prefix}:`
  for await (const keys of scanKeys(redis, { match: prefixedPattern(start, '*:meta') })) {
    for (const key of keys) {
      const name = key.slice(start.length, -':meta'.length)
      if (key.startsWith(start) && name && !name.includes(':')) names.add(name)
    }
  }
  return [...names].sort()
}

export interface QueueCounts {
  waiting: number
  active: number
  delayed: number
  prioritized: number
  'waiting-children': number
  failed: number
  completed: number
  /** Waiting jobs a pause holds back (0 unless the queue is paused). */
  paused: number
}

export interface QueueSummary {
  name: string
  paused: boolean
  counts: QueueCounts
}

/** Counts per state and the pause flag of each queue, in one pipelined round trip. */
export async function summarizeQueues(
  redis: Redis,
  prefix: string,
  names: readonly string[],
): Promise<QueueSummary[]> {
  const pipeline = redis.pipeline()
  for (const name of names) {
    const keys = queueKeys(prefix, name)
    pipeline.llen(keys.state('waiting'))
    pipeline.llen(keys.legacyPaused)
    pipeline.llen(keys.state('active'))
    pipeline.zcard(keys.state('delayed'))
    pipeline.zcard(keys.state('prioritized'))
    pipeline.zcard(keys.state('waiting-children'))
    pipeline.zcard(keys.state('failed'))
    pipeline.zcard(keys.state('completed'))
    pipeline.hexists(keys.meta, 'paused')
  }
  const replies = (await pipeline.exec()) ?? []
  const values = replies.map(([error, value]) => {
    if (error) throw error
    return Number(value)
  })
  return names.map((name, i) => {
    const [wait, legacy, active, delayed, prioritized, children, failed, completed, paused] =
      values.slice(i * 9, i * 9 + 9) as number[]
    const waiting = (wait ?? 0) + (legacy ?? 0)
    return {
      name,
      paused: paused === 1,
      counts: {
        waiting,
        active: active ?? 0,
        delayed: delayed ?? 0,
        prioritized: prioritized ?? 0,
        'waiting-children': children ?? 0,
        failed: failed ?? 0,
        completed: completed ?? 0,
        paused: paused === 1 ? waiting + (prioritized ?? 0) : 0,
      },
    }
  })
}

/** A job as `queue inspect` shows it. Times are ISO strings (null when not reached). */
export interface JobView {
  id: string
  name: string
  state: JobState | 'unknown'
  attemptsMade: number
  attemptsStarted: number
  stalledCounter: number
  maxAttempts: number | null
  failedReason: string | null
  createdAt: string | null
  processedAt: string | null
  finishedAt: string | null
  delayMs: number
  data: unknown
}

/** One job in full: its options, result, stack trace and log. */
export interface JobDetail extends JobView {
  opts: unknown
  returnValue: unknown
  progress: unknown
  stacktrace: string[]
  logs: string[]
}

const time = (raw: string | undefined) => {
  const ms = Number(raw)
  return raw && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null
}

function parseJson(raw: string | undefined): unknown {
  if (raw === undefined || raw === '') return null
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

/** Keys that hold secrets (as in the service's logger): their values never leave Redis. */
const secretKey = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|credential/i

/** The value with every secret-looking key's value replaced by "[redacted]", at any depth. */
export function redactData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactData)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      secretKey.test(key) ? '[redacted]' : redactData(item),
    ]),
  )
}

export function jobView(
  id: string,
  hash: Record<string, string>,
  state: JobState | 'unknown',
): JobView {
  const opts = parseJson(hash.opts) as { attempts?: number } | null
  return {
    id,
    name: hash.name ?? '',
    state,
    attemptsMade: Number(hash.atm ?? hash.attemptsMade ?? 0),
    attemptsStarted: Number(hash.ats ?? 0),
    stalledCounter: Number(hash.stc ?? 0),
    maxAttempts: typeof opts?.attempts === 'number' ? opts.attempts : null,
    failedReason: hash.failedReason || null,
    createdAt: time(hash.timestamp),
    processedAt: time(hash.processedOn),
    finishedAt: time(hash.finishedOn),
    delayMs: Number(hash.delay ?? 0),
    data: redactData(parseJson(hash.data)),
  }
}

export function jobDetail(
  id: string,
  hash: Record<string, string>,
  state: JobState | 'unknown',
  logs: string[],
): JobDetail {
  const stacktrace = parseJson(hash.stacktrace)
  return {
    ...jobView(id, hash, state),
    opts: parseJson(hash.opts),
    returnValue: redactData(parseJson(hash.returnvalue)),
    progress: parseJson(hash.progress),
    stacktrace: Array.isArray(stacktrace) ? stacktrace.map(String) : [],
    logs,
  }
}

/** Which state's key holds the job (a job in none, e.g. removed meanwhile: 'unknown'). */
export async function stateOf(
  redis: Redis,
  keys: QueueKeys,
  id: string,
): Promise<JobState | 'unknown'> {
  const pipeline = redis.pipeline()
  const zsets = ['failed', 'completed', 'delayed', 'prioritized', 'waiting-children'] as const
  for (const state of zsets) pipeline.zscore(keys.state(state), id)
  pipeline.lpos(keys.state('active'), id)
  pipeline.lpos(keys.state('waiting'), id)
  pipeline.lpos(keys.legacyPaused, id)
  const replies = ((await pipeline.exec()) ?? []).map(([, value]) => value)
  const found = [...zsets, 'active', 'waiting', 'waiting'] as const
  const index = replies.findIndex((value) => value !== null && value !== undefined)
  return index === -1 ? 'unknown' : (found[index] ?? 'unknown')
}
