import type { Redis } from 'ioredis'
import { cacheLayout } from '../../cache/layout.js'
import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import type { CommandResult } from '../../core/output.js'
import { createProgress, type Progress } from '../../core/progress.js'
import { prefixedPattern } from '../../redis/glob.js'
import { scanKeys } from '../../redis/scan.js'
import { formatBytes } from './shared.js'

/** Keys whose MEMORY USAGE is read per namespace; beyond it memory is extrapolated. */
const MEMORY_SAMPLE = 500

export interface CacheStatsData {
  prefix: string
  /** Entries: keys under `<p>cache:`. */
  keys: number
  /** Tag sets: keys under `<p>cache-tags:`. */
  tags: number
  /** Memory of entries and tag sets (MEMORY USAGE), extrapolated from a sample past 500 of each. */
  memoryBytes: number
  memoryExact: boolean
  hits: number
  misses: number
  /** hits / (hits + misses), or null before any lookup was counted. */
  hitRatio: number | null
}

/** Counts the keys under a namespace and reservoir-samples up to MEMORY_SAMPLE of them. */
async function survey(redis: Redis, namespace: string, progress: Progress) {
  let count = 0
  const sample: string[] = []
  for await (const batch of scanKeys(redis, { match: prefixedPattern(namespace) })) {
    for (const key of batch) {
      if (!key.startsWith(namespace)) continue
      count++
      if (sample.length < MEMORY_SAMPLE) sample.push(key)
      else {
        const slot = Math.floor(Math.random() * count)
        if (slot < MEMORY_SAMPLE) sample[slot] = key
      }
    }
    progress.update(`Counting cache keys… ${count.toLocaleString('en-US')}`)
  }
  if (sample.length === 0) return { count, bytes: 0, exact: true }
  const pipeline = redis.pipeline()
  for (const key of sample) pipeline.memory('USAGE', key)
  const sizes = ((await pipeline.exec()) ?? []).map(([, n]) => Number(n) || 0)
  const sampled = sizes.reduce((sum, n) => sum + n, 0)
  return {
    count,
    bytes: Math.round((sampled / sample.length) * count),
    exact: sample.length === count,
  }
}

export default async function cacheStats(
  ctx: CommandContext,
): Promise<CommandResult<CacheStatsData>> {
  const target = ctx.redisUrl()
  const prefix = ctx.keyPrefix()
  const layout = cacheLayout(prefix)
  const progress = createProgress(ctx.io)
  const data = await usingRedis(target, async (redis): Promise<CacheStatsData> => {
    const entries = await survey(redis, layout.entries, progress)
    const tags = await survey(redis, layout.tags, progress)
    progress.done()
    const [hits = 0, misses = 0] = (await redis.hmget(layout.stats, 'hits', 'misses')).map((n) =>
      Math.max(0, Number(n) || 0),
    )
    return {
      prefix,
      keys: entries.count,
      tags: tags.count,
      memoryBytes: entries.bytes + tags.bytes,
      memoryExact: entries.exact && tags.exact,
      hits,
      misses,
      hitRatio: hits + misses === 0 ? null : hits / (hits + misses),
    }
  })
  return {
    data,
    render: (style) => {
      const n = (value: number) => value.toLocaleString('en-US')
      const ratio = data.hitRatio === null ? '-' : `${(data.hitRatio * 100).toFixed(1)} %`
      return [
        `${style.dim('entries')}    ${n(data.keys)} under ${layout.entries}`,
        `${style.dim('tags')}       ${n(data.tags)} under ${layout.tags}`,
        `${style.dim('memory')}     ${data.memoryExact ? '' : '≈ '}${formatBytes(data.memoryBytes)}`,
        `${style.dim('hits')}       ${n(data.hits)}`,
        `${style.dim('misses')}     ${n(data.misses)}`,
        `${style.dim('hit ratio')}  ${ratio}${data.hits + data.misses ? '' : style.dim(` (nothing counted in ${layout.stats} yet)`)}`,
      ].join('\n')
    },
  }
}
