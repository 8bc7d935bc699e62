import type { Redis, Result } from 'ioredis'
import type { Cache, CacheOptions, Json } from '../lib/cache.js'
import type { Logger } from '../lib/logger.js'
import type { RedisConnections } from '../redis/connections.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    cacheStore(...args: (string | number)[]): Result<number, Context>
  }
}

/**
 * Stores an entry and indexes it under its tags, unless one of its tags was invalidated in the
 * last seconds (KEYS: entry, then a tag set and a "recently invalidated" marker per tag). That
 * closes the cache-aside race: a read that loaded before a write committed must not store its
 * stale value after the write invalidated the tag.
 */
const storeScript = `
local tags = (#KEYS - 1) / 2
for i = 1, tags do
  if redis.call('EXISTS', KEYS[1 + tags + i]) == 1 then return 0 end
end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
for i = 1, tags do
  redis.call('SADD', KEYS[1 + i], ARGV[3])
  if redis.call('TTL', KEYS[1 + i]) < ttl then redis.call('EXPIRE', KEYS[1 + i], ttl) end
end
return 1
`

/** What is stored under `<prefix>cache:<key>` (the layout `backendkit cache` reads). */
interface Envelope {
  v: Json
  tags: readonly string[]
  /** When it was stored, ms since the epoch. */
  at: number
}

export interface RedisCacheOptions {
  /** A tag invalidated within this long is not stored again (the longest a load may take). */
  guardMs?: number
  /** How often hit and miss counts go to Redis (one write per interval, not per request). */
  statsIntervalMs?: number
}

/**
 * Cache-aside in Redis. Entries are JSON under `<prefix>cache:<key>` with a TTL; each tag is a
 * set of the keys carrying it (`<prefix>cache-tags:<tag>`), so a write forgets everything that
 * showed what it changed. Concurrent misses of one key in this instance load once. When Redis
 * cannot be reached, reads go to the source: the cache never turns an outage into an error.
 */
export class RedisCache implements Cache {
  private readonly redis: Redis
  private readonly inflight = new Map<string, Promise<unknown>>()
  private readonly guardMs: number
  private readonly statsTimer: NodeJS.Timeout
  private hits = 0
  private misses = 0
  private failing = false

  constructor(
    private readonly connections: RedisConnections,
    private readonly logger: Logger,
    options: RedisCacheOptions = {},
  ) {
    this.redis = connections.client
    this.redis.defineCommand('cacheStore', { lua: storeScript })
    this.guardMs = options.guardMs ?? 10_000
    this.statsTimer = setInterval(() => void this.flushStats(), options.statsIntervalMs ?? 10_000)
    this.statsTimer.unref()
  }

  getOrLoad<T extends Json>(
    key: string,
    options: CacheOptions<T>,
    load: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const pending = this.inflight.get(key)
    if (pending) return pending as Promise<T | undefined>
    const flight = this.read(key, options, load).finally(() => this.inflight.delete(key))
    this.inflight.set(key, flight)
    return flight
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return
    try {
      // Mark first: a store racing this invalidation sees the mark and gives up.
      const marking = this.redis.pipeline()
      for (const tag of tags) marking.set(this.recentKey(tag), '1', 'PX', this.guardMs)
      for (const tag of tags) marking.smembers(this.tagKey(tag))
      const replies = (await marking.exec()) ?? []
      const keys = replies
        .slice(tags.length)
        .flatMap(([error, members]) => (error ? [] : (members as string[])))
        .map((key) => this.entryKey(key))
      const unlinking = this.redis.pipeline()
      for (let i = 0; i < keys.length; i += 500) unlinking.unlink(...keys.slice(i, i + 500))
      unlinking.unlink(...tags.map((tag) => this.tagKey(tag)))
      await unlinking.exec()
      this.recovered()
    } catch (error) {
      // The write already happened: its entries live on until their TTL. Say so, once.
      this.failed(error, 'cache invalidation failed; entries expire with their TTL')
    }
  }

  /** Adds the hit and miss counts since last time to `<prefix>cache-stats`. */
  async flushStats(): Promise<void> {
    const { hits, misses } = this
    if (hits === 0 && misses === 0) return
    this.hits = 0
    this.misses = 0
    try {
      const key = this.connections.key('cache-stats')
      await this.redis.pipeline().hincrby(key, 'hits', hits).hincrby(key, 'misses', misses).exec()
    } catch {
      this.hits += hits
      this.misses += misses
    }
  }

  async close(): Promise<void> {
    clearInterval(this.statsTimer)
    await this.flushStats()
  }

  private async read<T extends Json>(
    key: string,
    options: CacheOptions<T>,
    load: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    let cached: string | null = null
    try {
      cached = await this.redis.get(this.entryKey(key))
      this.recovered()
    } catch (error) {
      this.failed(error, 'cache unreachable; reading from the source')
      return load()
    }
    if (cached !== null) {
      this.hits++
      return (JSON.parse(cached) as Envelope).v as T
    }
    this.misses++
    const value = await load()
    if (value !== undefined) await this.store(key, value, options)
    return value
  }

  private async store<T extends Json>(key: string, value: T, options: CacheOptions<T>) {
    const tags = typeof options.tags === 'function' ? options.tags(value) : (options.tags ?? [])
    const envelope: Envelope = { v: value, tags, at: Date.now() }
    try {
      await this.redis.cacheStore(
        1 + 2 * tags.length,
        this.entryKey(key),
        ...tags.map((tag) => this.tagKey(tag)),
        ...tags.map((tag) => this.recentKey(tag)),
        JSON.stringify(envelope),
        options.ttlSeconds,
        key,
      )
    } catch (error) {
      this.failed(error, 'cache unreachable; reading from the source')
    }
  }

  private entryKey(key: string) {
    return this.connections.key('cache', key)
  }

  private tagKey(tag: string) {
    return this.connections.key('cache-tags', tag)
  }

  private recentKey(tag: string) {
    return this.connections.key('cache-recent', tag)
  }

  private failed(error: unknown, message: string) {
    if (this.failing) return
    this.failing = true
    this.logger.warn({ err: error }, message)
  }

  private recovered() {
    if (!this.failing) return
    this.failing = false
    this.logger.info('cache reachable again')
  }
}
