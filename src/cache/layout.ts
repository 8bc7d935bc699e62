/*
 * The cache-aside keys, as the generated service writes them (README: "Redis key layout").
 * `<p>` is the key prefix; a cache key (`post:123`) is relative to `<p>cache:`.
 *
 *   <p>cache:<key>        STRING, JSON {"v": value, "tags": ["post:1", …], "at": stored at (ms)}, TTL
 *   <p>cache-tags:<tag>   SET of the relative keys carrying the tag
 *   <p>cache-stats        HASH {hits, misses}, flushed there by the service now and then
 */

export interface CacheLayout {
  /** `<p>cache:`: every entry starts with it. */
  entries: string
  /** `<p>cache-tags:` */
  tags: string
  stats: string
  entryKey(key: string): string
  tagKey(tag: string): string
}

export function cacheLayout(prefix: string): CacheLayout {
  return {
    entries: `${prefix}cache:`,
    tags: `${prefix}cache-tags:`,
    stats: `${prefix}cache-stats`,
    entryKey: (key) => `${prefix}cache:${key}`,
    tagKey: (tag) => `${prefix}cache-tags:${tag}`,
  }
}

export interface CacheEnvelope {
  value: unknown
  tags: string[]
  /** When it was stored (ms since the epoch), or null when the entry does not say. */
  storedAt: number | null
}

/** A stored entry's envelope; undefined when the string is not in the layout's JSON form. */
export function parseEnvelope(raw: string): CacheEnvelope | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (!parsed || typeof parsed !== 'object' || !('v' in parsed)) return undefined
  const { v, tags, at } = parsed as { v: unknown; tags?: unknown; at?: unknown }
  return {
    value: v,
    tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
    storedAt: typeof at === 'number' && Number.isFinite(at) ? at : null,
  }
}
