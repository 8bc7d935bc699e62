import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import type { CommandResult } from '../../core/output.js'
import { createProgress } from '../../core/progress.js'
import { type Policy, type RateLimitKey, rateLimitLayout } from '../../ratelimit/layout.js'
import { type RateLimitEntry, readEntries, readPolicies, redisNow } from '../../ratelimit/read.js'
import { selectKeys } from '../../ratelimit/select.js'
import { scanKeys } from '../../redis/scan.js'
import type { OptionValues } from '../options.js'
import type { ratelimitListOptions } from './index.js'
import { byCount, policyList, renderEntries, unknownPolicyNote } from './shared.js'

export interface RateLimitListData {
  prefix: string
  policies: Policy[]
  /** Keys that matched (all of them, however many are shown). */
  matched: number
  /** More keys matched than --limit: only the busiest are in `entries`. */
  truncated: boolean
  entries: RateLimitEntry[]
}

/** The `limit` busiest entries, each key once (SCAN may return a key twice during a rehash). */
function busiest(entries: RateLimitEntry[], limit: number): RateLimitEntry[] {
  const seen = new Set<string>()
  return entries
    .sort(byCount)
    .filter((e) => !seen.has(e.redisKey) && seen.add(e.redisKey))
    .slice(0, limit)
}

export default async function ratelimitList(
  ctx: CommandContext,
  options: OptionValues<typeof ratelimitListOptions>,
): Promise<CommandResult<RateLimitListData>> {
  const target = ctx.redisUrl()
  const prefix = ctx.keyPrefix()
  const layout = rateLimitLayout(prefix)
  const selector = selectKeys(layout, options)
  const progress = createProgress(ctx.io)
  const data = await usingRedis(target, async (redis): Promise<RateLimitListData> => {
    const policies = await readPolicies(redis, layout)
    let kept: RateLimitEntry[] = []
    let matched = 0
    for await (const batch of scanKeys(redis, { match: selector.pattern })) {
      const keys = batch
        .map(layout.parse)
        .filter((key): key is RateLimitKey => key !== undefined && selector.accept(key))
      if (keys.length === 0) continue
      matched += keys.length
      kept.push(...(await readEntries(redis, keys, policies, await redisNow(redis))))
      // keep memory bounded however many identities there are: only the busiest survive
      if (kept.length > 2 * options.limit) kept = busiest(kept, options.limit)
      progress.update(`Reading rate-limit keys… ${matched.toLocaleString('en-US')}`)
    }
    progress.done()
    const entries = busiest(kept, options.limit)
    return {
      prefix,
      policies: policyList(policies),
      matched,
      truncated: matched > entries.length,
      entries,
    }
  })
  return {
    data,
    render: (style) => {
      if (data.entries.length === 0) {
        const filters = [
          options.match === undefined ? '' : ` matching "${options.match}"`,
          options.policy === undefined ? '' : ` in policy ${options.policy}`,
        ].join('')
        return `No rate-limit keys${filters} under ${layout.namespace} on ${target.display}.`
      }
      const lines = [
        renderEntries(data.entries, style, true),
        ...unknownPolicyNote(data.entries, layout.policiesKey, style),
      ]
      if (data.truncated) {
        lines.push(
          style.dim(
            `The busiest ${data.entries.length} of ${data.matched.toLocaleString('en-US')} keys; --limit shows more.`,
          ),
        )
      }
      return lines.join('\n')
    },
  }
}
