import { z } from 'zod'
import type { Cache, CacheOptions, Json } from '../../src/lib/cache.js'
import { type AppModule, defineModule } from '../../src/module.js'

/**
 * A cache in memory, for testing code that caches without the cache recipe (its Redis cache is
 * tested on its own). It really caches, so a write that forgets to invalidate what it changed
 * shows up as a stale read.
 */
export class MemoryCache implements Cache {
  private readonly entries = new Map<string, { value: Json; tags: readonly string[] }>()
  /** How many times a miss loaded from the source. */
  loads = 0

  async getOrLoad<T extends Json>(
    key: string,
    options: CacheOptions<T>,
    load: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const entry = this.entries.get(key)
    if (entry) return entry.value as T
    this.loads++
    const value = await load()
    if (value !== undefined) {
      const tags = typeof options.tags === 'function' ? options.tags(value) : (options.tags ?? [])
      this.entries.set(key, { value, tags })
    }
    return value
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    for (const [key, entry] of this.entries) {
      if (entry.tags.some((tag) => tags.includes(tag))) this.entries.delete(key)
    }
  }

  /** A module that provides this cache as `services.cache`: put it first. */
  module(): AppModule {
    return defineModule({
      name: 'memory-cache',
      env: z.object({}),
      init: () => ({ services: { cache: this } }),
    })
  }
}
