import { randomBytes } from 'node:crypto'
import type { Redis, Result } from 'ioredis'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    slidingWindow(...args: (string | number)[]): Result<[number, number, number, number], Context>
  }
}

/**
 * One atomic call for `n` requests counted against the same keys (one sorted set per identity, a
 * member per admitted request, scored by Redis' own clock): drop what left the window, count,
 * admit as many of the `n` as every key has room for, and record each admitted request in each
 * key with a unique member (two requests in the same millisecond are two entries). Prune, count
 * and add in one script: two calls would let concurrent requests all see room and over-admit.
 *
 * Returns {admitted (0..n), the fullest key's count before them, ms until the oldest entry of the
 * fullest key leaves the window, ms until a refused request may retry (0 when none was refused)}.
 */
const script = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local n = tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local counts, fullest = {}, 0
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  counts[i] = redis.call('ZCARD', KEYS[i])
  if counts[i] > fullest then fullest = counts[i] end
end
local admitted = math.max(0, math.min(n, limit - fullest))
if admitted > 0 then
  local entries = {}
  for j = 1, admitted do
    entries[2 * j - 1] = now
    entries[2 * j] = now .. '-' .. ARGV[3] .. '-' .. j
  end
  for i = 1, #KEYS do
    redis.call('ZADD', KEYS[i], unpack(entries))
    redis.call('PEXPIRE', KEYS[i], window)
  end
end
local oldest, wait = now, 0
for i = 1, #KEYS do
  local count = counts[i] + admitted
  if admitted < n and count >= limit then
    -- A slot frees when the entry that puts this key at the limit leaves the window.
    local freeing = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(freeing[2]) + window - now)
  end
  if counts[i] == fullest then
    local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    if first[2] then oldest = math.min(oldest, tonumber(first[2])) end
  end
end
return {admitted, fullest, oldest + window - now, wait}
`

export interface WindowResult {
  admitted: boolean
  remaining: number
  /**
   * Admitted: until the oldest entry of the fullest identity leaves the window. Refused: until
   * that identity frees a slot (the Retry-After).
   */
  resetMs: number
}

interface Batch {
  keys: readonly string[]
  limit: number
  windowMs: number
  waiting: { resolve(result: WindowResult): void; reject(error: unknown): void }[]
}

/** Requests counted in one call at most; Lua unpacks two arguments per entry. */
const maxBatch = 1_000

/**
 * The exact limit, shared by every instance: a sliding window in Redis.
 *
 * Requests for the same identities that arrive in the same turn of the event loop are counted
 * in one script call: under load (a client's burst, a busy user) that is one Redis call where
 * there would be dozens, and Redis' time goes to other clients. It stays exact, the script admits
 * them one by one; and a request never waits for a call already sent, only for the turn to end.
 */
export class SlidingWindow {
  /** Unique per process, so members from two instances never collide. */
  private readonly instance = randomBytes(6).toString('base64url')
  private sequence = 0
  private readonly pending = new Map<string, Batch>()

  constructor(private readonly redis: Redis) {
    redis.defineCommand('slidingWindow', { lua: script })
  }

  hit(keys: readonly string[], limit: number, windowMs: number): Promise<WindowResult> {
    const id = `${limit}:${windowMs}:${keys.join('\n')}`
    let batch = this.pending.get(id)
    if (!batch) {
      batch = { keys, limit, windowMs, waiting: [] }
      this.pending.set(id, batch)
      if (this.pending.size === 1) setImmediate(() => this.flush())
    }
    const counted = new Promise<WindowResult>((resolve, reject) => {
      batch.waiting.push({ resolve, reject })
    })
    if (batch.waiting.length >= maxBatch) {
      this.pending.delete(id)
      void this.count(batch)
    }
    return counted
  }

  /** Sends every batch of this turn. */
  private flush(): void {
    const batches = [...this.pending.values()]
    this.pending.clear()
    for (const batch of batches) void this.count(batch)
  }

  private async count({ keys, limit, windowMs, waiting }: Batch): Promise<void> {
    const unique = `${this.instance}${(this.sequence++).toString(36)}`
    try {
      const [admitted, fullest, resetMs, waitMs] = await this.redis.slidingWindow(
        keys.length,
        ...keys,
        limit,
        windowMs,
        unique,
        waiting.length,
      )
      for (const [i, request] of waiting.entries()) {
        request.resolve(
          i < admitted
            ? { admitted: true, remaining: limit - fullest - i - 1, resetMs: Math.max(0, resetMs) }
            : { admitted: false, remaining: 0, resetMs: Math.max(0, waitMs) },
        )
      }
    } catch (error) {
      for (const request of waiting) request.reject(error)
    }
  }
}
