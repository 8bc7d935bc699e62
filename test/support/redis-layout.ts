import { Redis } from 'ioredis'
import { testServices } from './env.js'

/**
 * Writes Redis keys exactly as the generated service does (README: "Redis key layout"), so the
 * operate commands are tested against the layout, not against their own idea of it.
 */
export class ServiceKeys {
  readonly redis = new Redis(testServices.redisUrl)

  constructor(readonly prefix: string) {}

  async now(): Promise<number> {
    const [seconds = 0, micros = 0] = (await this.redis.time()).map(Number)
    return seconds * 1000 + Math.floor(micros / 1000)
  }

  /** What the service writes at start: `<p>rl-policies`. */
  async definePolicies(policies: Record<string, { q: number; w: number }>): Promise<void> {
    const fields = Object.entries(policies).flatMap(([name, p]) => [name, JSON.stringify(p)])
    await this.redis.hset(`${this.prefix}rl-policies`, ...fields)
  }

  /** `n` admitted requests, `spacingMs` apart, the newest now (as the limiter's Lua records them). */
  async admit(policy: string, identity: string, n: number, windowS = 60, spacingMs = 1000) {
    const key = `${this.prefix}rl:${policy}:${identity}`
    const now = await this.now()
    const pipeline = this.redis.pipeline()
    for (let i = 0; i < n; i++) {
      const at = now - i * spacingMs
      pipeline.zadd(key, at, `${at}-${Math.random().toString(36).slice(2)}`)
    }
    pipeline.pexpire(key, windowS * 1000)
    await pipeline.exec()
    return key
  }

  /** A cache-aside entry and its tag sets. */
  async cache(key: string, value: unknown, tags: string[] = [], ttlS = 300): Promise<string> {
    const redisKey = `${this.prefix}cache:${key}`
    const pipeline = this.redis.pipeline()
    pipeline.set(redisKey, JSON.stringify({ v: value, tags, at: await this.now() }), 'EX', ttlS)
    for (const tag of tags) pipeline.sadd(`${this.prefix}cache-tags:${tag}`, key)
    await pipeline.exec()
    return redisKey
  }

  async stats(hits: number, misses: number): Promise<void> {
    await this.redis.hset(`${this.prefix}cache-stats`, 'hits', hits, 'misses', misses)
  }

  /** Every key under the prefix, sorted (SCAN with the prefix escaped). */
  async keys(): Promise<string[]> {
    const found: string[] = []
    const match = `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`
    let cursor = '0'
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 1000)
      cursor = next
      found.push(...keys)
    } while (cursor !== '0')
    return [...new Set(found)].sort()
  }

  close(): void {
    this.redis.disconnect()
  }
}
