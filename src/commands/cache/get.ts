import { cacheLayout, parseEnvelope } from '../../cache/layout.js'
import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { formatDuration } from '../../core/duration.js'
import { errorMessage } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'

export interface CacheGetData {
  prefix: string
  key: string
  redisKey: string
  found: boolean
  /** Milliseconds left to live; null when it never expires (or is not there). */
  ttlMs: number | null
  /** ISO time it was stored, from the entry's `at`. */
  storedAt: string | null
  tags: string[]
  /** The cached value (`v`); the raw string when the entry is not in the cache layout's JSON. */
  value: unknown
  /** Whether the entry is in the cache layout's JSON envelope ({v, tags, at}). */
  envelope: boolean
  /** Why the entry could not be read (e.g. it is not a string), or null. */
  error: string | null
}

/** Exit 1 when there is no such entry (or it cannot be read). */
export default async function cacheGet(
  ctx: CommandContext,
  key: string,
): Promise<CommandResult<CacheGetData>> {
  const target = ctx.redisUrl()
  const prefix = ctx.keyPrefix()
  const redisKey = cacheLayout(prefix).entryKey(key)
  const data = await usingRedis(target, async (redis): Promise<CacheGetData> => {
    const replies = (await redis.pipeline().get(redisKey).pttl(redisKey).exec()) ?? []
    const [getError, raw] = replies[0] ?? [new Error('no reply'), null]
    const pttl = replies[1]?.[1]
    const base = { prefix, key, redisKey, ttlMs: null, storedAt: null, tags: [], value: null }
    if (getError) return { ...base, found: true, envelope: false, error: errorMessage(getError) }
    if (typeof raw !== 'string') return { ...base, found: false, envelope: false, error: null }
    const envelope = parseEnvelope(raw)
    return {
      ...base,
      found: true,
      ttlMs: typeof pttl === 'number' && pttl >= 0 ? pttl : null,
      storedAt: envelope?.storedAt == null ? null : new Date(envelope.storedAt).toISOString(),
      tags: envelope?.tags ?? [],
      value: envelope ? envelope.value : raw,
      envelope: envelope !== undefined,
      error: null,
    }
  })
  return {
    data,
    exitCode: data.found && !data.error ? 0 : 1,
    render: (style) => {
      if (!data.found)
        return style.yellow(`No cache entry ${key} (${redisKey}) on ${target.display}.`)
      if (data.error) return style.red(`Cannot read ${redisKey}: ${data.error}`)
      const lines = [
        `${style.dim('key')}       ${redisKey}`,
        `${style.dim('ttl')}       ${data.ttlMs === null ? 'never expires' : formatDuration(data.ttlMs)}`,
        `${style.dim('tags')}      ${data.tags.length ? data.tags.join(', ') : '-'}`,
        `${style.dim('stored at')} ${data.storedAt ?? '-'}`,
        style.dim('value'),
        typeof data.value === 'string' && !data.envelope
          ? data.value
          : JSON.stringify(data.value, null, 2),
      ]
      if (!data.envelope)
        lines.push(style.dim('(not in the {v, tags, at} cache layout: shown as stored)'))
      return lines.join('\n')
    },
  }
}
