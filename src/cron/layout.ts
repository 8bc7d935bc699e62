import type { Redis } from 'ioredis'
import { queueKeys } from '../queues/layout.js'

/*
 * The schedules the generated service's worker publishes (recipe `jobs`), under the Redis key
 * prefix `<p>`:
 *
 *   <p>cron:schedules   HASH  name → definition (JSON, below)
 *   <p>cron:paused      HASH  name → when it was paused (ISO time); a paused schedule has no
 *                             BullMQ scheduler, and every worker keeps it that way at start
 *   <p>cron:runs        HASH  name → its last run (JSON, below)
 *
 * Each schedule is a BullMQ job scheduler (id = name) of the queue its definition names; its next
 * run is the scheduler's score in `<queuePrefix>:<queue>:repeat`.
 */

export interface ScheduleDefinition {
  name: string
  description: string
  pattern: string | null
  every: number | null
  tz: string
  queue: { prefix: string; name: string }
  template: { name: string; data: Record<string, unknown>; opts: Record<string, unknown> }
  publishedAt: string
}

export interface RunRecord {
  jobId: string
  manual: boolean
  startedAt: string
  durationMs: number
  status: 'completed' | 'failed' | 'skipped'
  result?: unknown
  error?: string
}

export interface CronLayout {
  schedules: string
  paused: string
  runs: string
}

export function cronLayout(prefix: string): CronLayout {
  return {
    schedules: `${prefix}cron:schedules`,
    paused: `${prefix}cron:paused`,
    runs: `${prefix}cron:runs`,
  }
}

/** A schedule as `cron list` shows it. */
export interface ScheduleView {
  name: string
  description: string
  pattern: string | null
  every: number | null
  tz: string
  queue: string
  /** When BullMQ will run it next (ISO), null while paused. */
  nextRun: string | null
  paused: boolean
  pausedAt: string | null
  lastRun: RunRecord | null
}

const parse = <T>(raw: string | undefined): T | null => {
  if (!raw) return null
  try {
    return JSON.parse(raw) as T
  } catch {
    return null
  }
}

export async function readDefinitions(
  redis: Redis,
  layout: CronLayout,
): Promise<Map<string, ScheduleDefinition>> {
  const raw = await redis.hgetall(layout.schedules)
  const definitions = new Map<string, ScheduleDefinition>()
  for (const [name, value] of Object.entries(raw)) {
    const definition = parse<ScheduleDefinition>(value)
    if (definition) definitions.set(name, definition)
  }
  return definitions
}

/** Every published schedule with its next run, pause and last run (a few round trips in all). */
export async function readSchedules(redis: Redis, layout: CronLayout): Promise<ScheduleView[]> {
  const [definitions, paused, runs] = await Promise.all([
    readDefinitions(redis, layout),
    redis.hgetall(layout.paused),
    redis.hgetall(layout.runs),
  ])
  const names = [...definitions.keys()].sort()
  const pipeline = redis.pipeline()
  for (const name of names) {
    const { queue } = definitions.get(name) as ScheduleDefinition
    pipeline.zscore(`${queueKeys(queue.prefix, queue.name).base}repeat`, name)
  }
  const next = ((await pipeline.exec()) ?? []).map(([, score]) => score as string | null)
  return names.map((name, i) => {
    const definition = definitions.get(name) as ScheduleDefinition
    const score = next[i]
    return {
      name,
      description: definition.description,
      pattern: definition.pattern,
      every: definition.every,
      tz: definition.tz,
      queue: definition.queue.name,
      nextRun: score ? new Date(Number(score)).toISOString() : null,
      paused: paused[name] !== undefined,
      pausedAt: paused[name] ?? null,
      lastRun: parse<RunRecord>(runs[name]),
    }
  })
}
