import type { Redis } from 'ioredis'
import { type CacheLayout, cacheLayout } from '../../cache/layout.js'
import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { errorMessage, usageError } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import { createProgress, type Progress } from '../../core/progress.js'
import { type DeleteReport, deleteEach, deleteKeys } from '../../redis/delete.js'
import { prefixedPattern } from '../../redis/glob.js'
import { scanKeys, scanSetMembers } from '../../redis/scan.js'
import {
  confirmDeletion,
  type DeletionData,
  type DeletionTarget,
  deletionResult,
  describeCount,
  targetFromReport,
} from '../deletion.js'
import type { OptionValues } from '../options.js'
import type { cacheInvalidateOptions } from './index.js'

type InvalidateOptions = OptionValues<typeof cacheInvalidateOptions>

const few = (items: readonly string[]) =>
  items.length <= 5
    ? items.join(', ')
    : `${items.slice(0, 5).join(', ')} and ${items.length - 5} more`

/** Exactly one way of choosing what goes; anything else is a usage error. */
function chooseMode(keys: string[], options: InvalidateOptions) {
  const given = [
    keys.length > 0 && 'keys',
    options.match !== undefined && '--match',
    options.tag !== undefined && '--tag',
    options.all && '--all',
  ].filter(Boolean)
  if (given.length !== 1) {
    throw usageError(
      given.length === 0
        ? 'Nothing to invalidate: name keys, or pass --match <glob>, --tag <tag> or --all.'
        : `Pass one of keys, --match, --tag and --all, not ${given.join(' and ')}.`,
      'e.g. `cache invalidate post:1 post:2`, `--match "post:*"`, `--tag user:42` or `--all`.',
    )
  }
  return given[0] as 'keys' | '--match' | '--tag' | '--all'
}

/** A tag's entries (the keys its set names), then the set itself. Never throws. */
async function invalidateTag(
  redis: Redis,
  layout: CacheLayout,
  tag: string,
  dryRun: boolean,
  progress: Progress,
): Promise<DeletionTarget> {
  const setKey = layout.tagKey(tag)
  const empty: DeleteReport = { matched: 0, deleted: 0, sample: [], unconfirmed: 0, error: null }
  try {
    if (!(await redis.exists(setKey))) return targetFromReport(tag, 'tag', empty)
    const entries = (async function* () {
      for await (const members of scanSetMembers(redis, setKey)) yield members.map(layout.entryKey)
    })()
    const report = await deleteKeys(redis, entries, {
      within: layout.entries,
      dryRun,
      onProgress: (r) =>
        progress.update(`Invalidating tag ${tag}… ${r.matched.toLocaleString('en-US')} entries`),
    })
    if (!report.error) {
      report.matched += 1
      if (report.sample.length < 20) report.sample.push(setKey)
      if (!dryRun) report.deleted += await redis.unlink(setKey)
    }
    return targetFromReport(tag, 'tag', report)
  } catch (error) {
    return targetFromReport(tag, 'tag', { ...empty, error: errorMessage(error) })
  }
}

/**
 * Deletes cache entries: named keys (taken literally), a glob over keys, the entries of tags (and
 * the tags), or everything under `<p>cache:` and `<p>cache-tags:` (`<p>cache-stats` stays).
 */
export default async function cacheInvalidate(
  ctx: CommandContext,
  keys: string[],
  options: InvalidateOptions,
): Promise<CommandResult<DeletionData>> {
  const mode = chooseMode(keys, options)
  const target = ctx.redisUrl()
  const prefix = ctx.keyPrefix()
  const layout = cacheLayout(prefix)
  const dryRun = Boolean(options.dryRun)
  const on = `on ${target.display}`
  const progress = createProgress(ctx.io)
  const report = (r: DeleteReport) =>
    progress.update(`Invalidating… ${r.deleted.toLocaleString('en-US')} keys deleted`)

  const targets = await usingRedis(target, async (redis): Promise<DeletionTarget[]> => {
    if (mode === 'keys') {
      const wanted = [...new Set(keys)]
      const redisKeys = wanted.map(layout.entryKey)
      await confirmDeletion(
        ctx,
        dryRun,
        async () =>
          (await deleteEach(redis, redisKeys, { within: layout.entries, dryRun: true })).filter(
            (o) => o.existed,
          ).length,
        (n) => `delete ${describeCount(n, 'key')} (${few(wanted)}) under ${layout.entries} ${on}`,
      )
      const outcomes = await deleteEach(redis, redisKeys, { within: layout.entries, dryRun })
      return outcomes.map((o, i) => ({
        target: wanted[i] ?? o.key,
        kind: 'key',
        matched: o.existed ? 1 : 0,
        deleted: o.existed && !dryRun ? 1 : 0,
        redisKeys: o.existed ? [o.key] : [],
        error: o.error,
      }))
    }

    if (mode === '--tag') {
      const tags = [...new Set(options.tag)]
      await confirmDeletion(
        ctx,
        dryRun,
        async () => {
          const pipeline = redis.pipeline()
          for (const tag of tags) pipeline.scard(layout.tagKey(tag))
          const sizes = ((await pipeline.exec()) ?? []).map(([, n]) => Number(n) || 0)
          return sizes.reduce((sum, n) => sum + (n > 0 ? n + 1 : 0), 0)
        },
        (n) =>
          `delete ${describeCount(n, 'key')}: the entries tagged ${few(tags)} and the tag${tags.length === 1 ? '' : 's'}, under ${prefix || '(no prefix)'} ${on}`,
      )
      const done: DeletionTarget[] = []
      for (const tag of tags) done.push(await invalidateTag(redis, layout, tag, dryRun, progress))
      return done
    }

    // --match or --all: patterns, scanned
    const patterns =
      mode === '--all'
        ? [prefixedPattern(layout.entries), prefixedPattern(layout.tags)]
        : [prefixedPattern(layout.entries, options.match)]
    const batches = async function* () {
      for (const match of patterns) yield* scanKeys(redis, { match })
    }
    const accept = (key: string) => key.startsWith(layout.entries) || key.startsWith(layout.tags)
    const what =
      mode === '--all'
        ? `every cache entry and tag under ${layout.entries} and ${layout.tags}`
        : `cache entries matching "${options.match}" under ${layout.entries}`
    await confirmDeletion(
      ctx,
      dryRun,
      async () =>
        (await deleteKeys(redis, batches(), { within: prefix, accept, dryRun: true })).matched,
      (n) => `delete ${n === undefined ? what : `${describeCount(n)}: ${what}`} ${on}`,
    )
    const result = await deleteKeys(redis, batches(), {
      within: prefix,
      accept,
      dryRun,
      onProgress: report,
    })
    return [
      targetFromReport(
        mode === '--all' ? '*' : (options.match ?? ''),
        mode === '--all' ? 'all' : 'match',
        result,
      ),
    ]
  })
  progress.done()
  const sum = (pick: (t: DeletionTarget) => number) => targets.reduce((n, t) => n + pick(t), 0)
  return deletionResult(
    { prefix, dryRun, matched: sum((t) => t.matched), deleted: sum((t) => t.deleted), targets },
    target.display,
  )
}
