import type { Redis } from 'ioredis'
import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { usageError } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import { createProgress } from '../../core/progress.js'
import { type RateLimitKey, type RateLimitLayout, rateLimitLayout } from '../../ratelimit/layout.js'
import { selectKeys } from '../../ratelimit/select.js'
import { deleteEach, deleteKeys } from '../../redis/delete.js'
import { scanKeys } from '../../redis/scan.js'
import {
  confirmDeletion,
  type DeletionData,
  type DeletionTarget,
  deletionResult,
  describeCount,
  targetFromReport,
} from '../deletion.js'
import type { OptionValues } from '../options.js'
import type { ratelimitResetOptions } from './index.js'

type ResetOptions = OptionValues<typeof ratelimitResetOptions>

/**
 * Tells every instance of the service that limits were reset, so each drops what it holds in
 * process for them (token buckets, refusals remembered until a reset): without it, an instance
 * that had refused an identity would go on refusing it locally until the old reset time.
 */
async function announceReset(
  redis: Redis,
  layout: RateLimitLayout,
  what: { policy: string | null; identities?: string[]; match?: string },
): Promise<void> {
  await redis.publish(layout.resetChannel, JSON.stringify(what))
}

/**
 * Clears identities so their next request is admitted at once. Identities are taken literally;
 * --match takes a glob on the identity. Without --policy, every policy (found by scanning
 * `<p>rl:`, so a policy missing from rl-policies is cleared too).
 */
export default async function ratelimitReset(
  ctx: CommandContext,
  identities: string[],
  options: ResetOptions,
): Promise<CommandResult<DeletionData>> {
  if (identities.length > 0 && options.match !== undefined) {
    throw usageError(
      'Pass identities or --match, not both.',
      'e.g. `ratelimit reset ip:203.0.113.7` or `ratelimit reset --match "ip:10.*"`.',
    )
  }
  if (identities.length === 0 && options.match === undefined) {
    throw usageError(
      'Nothing to reset: name the identities, or pass --match <glob>.',
      'e.g. `ratelimit reset ip:203.0.113.7 user:42` or `ratelimit reset --match "ip:10.*"`.',
    )
  }
  const target = ctx.redisUrl()
  const prefix = ctx.keyPrefix()
  const layout = rateLimitLayout(prefix)
  const dryRun = Boolean(options.dryRun)
  const scope = options.policy === undefined ? 'in every policy' : `in policy ${options.policy}`
  const where = `under ${layout.namespace} on ${target.display}`
  const within = layout.namespace

  const targets = await usingRedis(target, async (redis): Promise<DeletionTarget[]> => {
    const { match } = options
    if (match !== undefined) {
      const selector = selectKeys(layout, options)
      const accept = (redisKey: string) => {
        const key = layout.parse(redisKey)
        return key !== undefined && selector.accept(key)
      }
      const scan = () => scanKeys(redis, { match: selector.pattern })
      await confirmDeletion(
        ctx,
        dryRun,
        async () => (await deleteKeys(redis, scan(), { within, accept, dryRun: true })).matched,
        (n) =>
          `reset ${describeCount(n, 'rate-limit key')} whose identity matches "${match}" ${scope} ${where}`,
      )
      const progress = createProgress(ctx.io)
      const report = await deleteKeys(redis, scan(), {
        within,
        accept,
        dryRun,
        onProgress: (r) =>
          progress.update(`Resetting… ${r.deleted.toLocaleString('en-US')} keys deleted`),
      })
      progress.done()
      if (!dryRun) await announceReset(redis, layout, { policy: options.policy ?? null, match })
      return [targetFromReport(match, 'match', report)]
    }

    const wanted = [...new Set(identities)]
    let keys: RateLimitKey[]
    if (options.policy !== undefined) {
      const policy = options.policy
      keys = wanted.map((identity) => ({
        redisKey: layout.keyOf(policy, identity),
        policy,
        identity,
      }))
    } else {
      const selector = selectKeys(layout, { identities: wanted })
      keys = []
      for await (const batch of scanKeys(redis, { match: selector.pattern })) {
        for (const key of batch.map(layout.parse)) if (key && selector.accept(key)) keys.push(key)
      }
    }
    const redisKeys = [...new Set(keys.map((k) => k.redisKey))]
    await confirmDeletion(
      ctx,
      dryRun,
      async () =>
        (await deleteEach(redis, redisKeys, { within, dryRun: true })).filter((o) => o.existed)
          .length,
      (n) =>
        `reset ${describeCount(n, 'rate-limit key')} of ${wanted.join(', ')} ${scope} ${where}`,
    )
    const outcomes = new Map(
      (await deleteEach(redis, redisKeys, { within, dryRun })).map((o) => [o.key, o]),
    )
    if (!dryRun) {
      await announceReset(redis, layout, { policy: options.policy ?? null, identities: wanted })
    }
    return wanted.map((identity) => {
      const mine = keys.filter((k) => k.identity === identity).map((k) => outcomes.get(k.redisKey))
      const existed = mine.filter((o) => o?.existed).map((o) => o?.key ?? '')
      return {
        target: identity,
        kind: 'identity',
        matched: existed.length,
        deleted: dryRun ? 0 : existed.length,
        redisKeys: existed,
        error: mine.find((o) => o?.error)?.error ?? null,
      }
    })
  })
  const sum = (pick: (t: DeletionTarget) => number) => targets.reduce((n, t) => n + pick(t), 0)
  return deletionResult(
    { prefix, dryRun, matched: sum((t) => t.matched), deleted: sum((t) => t.deleted), targets },
    target.display,
  )
}
