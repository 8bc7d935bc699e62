import { randomBytes } from 'node:crypto'
import type { Redis, Result } from 'ioredis'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    slidingWindow(...args: (string | number)[]): Result<[number, number, number], Context>
  }
}

/**
 * One atomic call per request: for each key (one sorted set per identity, a member per admitted
 * request, scored by Redis' own clock), drop what left the window, count, and only if every key
 * is under the limit record the request in each, with a unique member (two requests in the same
 * millisecond are two entries). Prune, count and add in one script: two calls would let
 * concurrent requests all see room and over-admit.
 *
 * Returns {admitted 1|0, remaining, ms until a refused request may retry, or until the oldest
 * entry of the fullest key leaves the window}.
 */
const script = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local fullest, oldest, wait = -1, now, 0
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    -- A slot frees when the entry that puts this key at the limit leaves the window.
    local freeing = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(freeing[2]) + window - now)
  end
  if count > fullest then
    fullest = count
    local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    oldest = first[2] and tonumber(first[2]) or now
  end
end
if fullest >= limit then
  return {0, 0, wait}
end
local member = now .. '-' .. ARGV[3]
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('PEXPIRE', KEYS[i], window)
end
return {1, limit - fullest - 1, oldest + window - now}
`

export interface WindowResult {
  admitted: boolean
  remaining: number
  /** Until the fullest identity frees a slot (the Retry-After of a refusal). */
  resetMs: number
}

/** The exact limit, shared by every instance: a sliding window in Redis. */
export class SlidingWindow {
  /** Unique per process, so members from two instances never collide. */
  private readonly instance = randomBytes(6).toString('base64url')
  private sequence = 0

  constructor(private readonly redis: Redis) {
    redis.defineCommand('slidingWindow', { lua: script })
  }

  async hit(keys: readonly string[], limit: number, windowMs: number): Promise<WindowResult> {
    const unique = `${this.instance}${(this.sequence++).toString(36)}`
    const [admitted, remaining, resetMs] = await this.redis.slidingWindow(
      keys.length,
      ...keys,
      limit,
      windowMs,
      unique,
    )
    return { admitted: admitted === 1, remaining, resetMs: Math.max(0, resetMs) }
  }
}
