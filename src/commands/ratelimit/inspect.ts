import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import type { CommandResult } from '../../core/output.js'
import { type RateLimitKey, rateLimitLayout } from '../../ratelimit/layout.js'
import { type RateLimitEntry, readEntries, readPolicies, redisNow } from '../../ratelimit/read.js'
import { selectKeys } from '../../ratelimit/select.js'
import { scanKeys } from '../../redis/scan.js'
import { renderEntries, unknownPolicyNote } from './shared.js'

export interface RateLimitInspectData {
  prefix: string
  identity: string
  /** Whether the identity has a key in any policy. */
  found: boolean
  /** Every policy of rl-policies (count 0 where it has no key), and any other policy it has a key in. */
  entries: RateLimitEntry[]
}

/** Exit 1 when the identity has no rate-limit key at all (nothing matched). */
export default async function ratelimitInspect(
  ctx: CommandContext,
  identity: string,
): Promise<CommandResult<RateLimitInspectData>> {
  const target = ctx.redisUrl()
  const prefix = ctx.keyPrefix()
  const layout = rateLimitLayout(prefix)
  const selector = selectKeys(layout, { identities: [identity] })
  const data = await usingRedis(target, async (redis): Promise<RateLimitInspectData> => {
    const policies = await readPolicies(redis, layout)
    const found = new Map<string, RateLimitKey>()
    for await (const batch of scanKeys(redis, { match: selector.pattern })) {
      for (const key of batch.map(layout.parse)) {
        if (key && selector.accept(key)) found.set(key.redisKey, key)
      }
    }
    const keys = new Map(found)
    for (const policy of policies.keys()) {
      const redisKey = layout.keyOf(policy, identity)
      if (!keys.has(redisKey)) keys.set(redisKey, { redisKey, policy, identity })
    }
    const sorted = [...keys.values()].sort((a, b) => a.policy.localeCompare(b.policy))
    const entries = await readEntries(redis, sorted, policies, await redisNow(redis))
    return { prefix, identity, found: found.size > 0, entries }
  })
  return {
    data,
    exitCode: data.found ? 0 : 1,
    render: (style) => {
      const head = data.found
        ? `Rate limits of ${style.bold(identity)} (${layout.keyOf('<policy>', identity)}):`
        : style.yellow(
            `No rate-limit key for ${identity} under ${layout.namespace}: it has its whole quota in every policy.`,
          )
      if (data.entries.length === 0) return head
      return [
        head,
        renderEntries(data.entries, style, false),
        ...unknownPolicyNote(data.entries, layout.policiesKey, style),
      ].join('\n')
    },
  }
}
