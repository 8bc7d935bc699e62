import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { BackendkitError, ExitCode } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import { prefixedPattern } from '../../redis/glob.js'
import { scanKeys } from '../../redis/scan.js'
import { confirmDeletion, describeCount } from '../deletion.js'
import type { OptionValues } from '../options.js'
import type { queueGroupOptions, queueObliterateOptions } from './index.js'
import { queuePrefix, requireQueue, usingBullQueue } from './shared.js'

type ObliterateOptions = OptionValues<typeof queueGroupOptions> &
  OptionValues<typeof queueObliterateOptions>

export interface QueueObliterateData {
  prefix: string
  queue: string
  dryRun: boolean
  /** Keys of the queue before (jobs, their logs, the queue's own). */
  keys: number
  obliterated: boolean
}

/**
 * Removes the queue and everything in it, in batches (BullMQ's obliterate, 1,000 keys a call).
 * Refuses while jobs run unless --force. Destructive: asks first, or needs --yes.
 */
export default async function queueObliterate(
  ctx: CommandContext,
  name: string,
  options: ObliterateOptions,
): Promise<CommandResult<QueueObliterateData>> {
  const target = ctx.redisUrl()
  const prefix = queuePrefix(ctx, options)
  const dryRun = Boolean(options.dryRun)
  const data = await usingRedis(target, async (redis): Promise<QueueObliterateData> => {
    const keys = await requireQueue(redis, prefix, name)
    let count = 0
    for await (const batch of scanKeys(redis, { match: prefixedPattern(keys.base) })) {
      count += batch.length
    }
    await confirmDeletion(
      ctx,
      dryRun,
      async () => count,
      (n) =>
        `obliterate the queue ${name} and every job in it (${describeCount(n)}) on ${target.display}`,
    )
    if (dryRun) return { prefix, queue: name, dryRun, keys: count, obliterated: false }
    await usingBullQueue(redis, keys, async (queue) => {
      try {
        await queue.obliterate({ force: Boolean(options.force), count: 1_000 })
      } catch (error) {
        if (!/active jobs/.test((error as Error).message)) throw error
        throw new BackendkitError(`${name} has jobs running; nothing was removed.`, {
          code: 'E_ACTIVE_JOBS',
          exitCode: ExitCode.failure,
          hint: 'Wait for them (queue pause stops new ones), or pass --force.',
        })
      }
    })
    return { prefix, queue: name, dryRun, keys: count, obliterated: true }
  })
  return {
    data,
    render: (style) =>
      dryRun
        ? style.yellow(
            `Dry run: ${name} and its ${data.keys.toLocaleString('en-US')} keys would go; nothing was changed.`,
          )
        : `Obliterated ${name} (${data.keys.toLocaleString('en-US')} keys) on ${target.display}.`,
  }
}
