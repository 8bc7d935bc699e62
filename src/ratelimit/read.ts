import type { Redis } from 'ioredis'
import { errorMessage } from '../core/errors.js'
import {
  type Policy,
  parsePolicies,
  type RateLimitKey,
  type RateLimitLayout,
  type WindowState,
  windowState,
} from './layout.js'

export interface RateLimitEntry extends RateLimitKey, WindowState {
  /** Why this key could not be read (e.g. it is not a sorted set), or null. */
  error: string | null
}

/** Redis's clock in ms: the service scores requests with it, so windows are judged by it too. */
export async function redisNow(redis: Redis): Promise<number> {
  const [seconds, micros] = (await redis.time()).map(Number)
  return (seconds ?? 0) * 1000 + Math.floor((micros ?? 0) / 1000)
}

export async function readPolicies(
  redis: Redis,
  layout: RateLimitLayout,
): Promise<Map<string, Policy>> {
  return parsePolicies(await redis.hgetall(layout.policiesKey))
}

/**
 * The state of each key, read in one pipeline: for a known policy ZCOUNT of the window and its
 * oldest member; otherwise ZCARD. A key that cannot be read gets an error, not an exception.
 */
export async function readEntries(
  redis: Redis,
  keys: readonly RateLimitKey[],
  policies: ReadonlyMap<string, Policy>,
  nowMs: number,
): Promise<RateLimitEntry[]> {
  if (keys.length === 0) return []
  const pipeline = redis.pipeline()
  for (const { redisKey, policy } of keys) {
    const known = policies.get(policy)
    if (known) {
      const after = `(${nowMs - known.window * 1000}`
      pipeline.zcount(redisKey, after, '+inf')
      pipeline.zrangebyscore(redisKey, after, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    } else {
      pipeline.zcard(redisKey)
    }
  }
  const replies = (await pipeline.exec()) ?? []
  let at = 0
  return keys.map((key) => {
    const policy = policies.get(key.policy)
    const [countError, count] = replies[at++] ?? [new Error('no reply'), 0]
    const [oldestError, oldest] = policy ? (replies[at++] ?? [null, []]) : [null, []]
    const error = countError ?? oldestError
    if (error) {
      const { quota = null, window = null } = policy ?? {}
      const unknown = { count: null, remaining: null, reset: null }
      return { ...key, quota, window, ...unknown, error: errorMessage(error) }
    }
    const oldestMs = Array.isArray(oldest) && oldest.length === 2 ? Number(oldest[1]) : null
    return { ...key, ...windowState(policy, Number(count), oldestMs, nowMs), error: null }
  })
}
