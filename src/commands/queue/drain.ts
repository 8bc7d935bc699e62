import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { ExitCode } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import type { QueueKeys } from '../../queues/layout.js'
import { confirmDeletion, describeCount } from '../deletion.js'
import type { OptionValues } from '../options.js'
import type { queueDrainOptions, queueGroupOptions } from './index.js'
import { queuePrefix, requireQueue, usingBullQueue } from './shared.js'

type DrainOptions = OptionValues<typeof queueGroupOptions> & OptionValues<typeof queueDrainOptions>

export interface QueueDrainData {
  prefix: string
  queue: string
  dryRun: boolean
  /** Delayed jobs were included. */
  delayed: boolean
  /** Jobs that were waiting (and delayed), before. */
  matched: number
  /** Jobs removed (0 on a dry run). */
  removed: number
}

async function pending(redis: import('ioredis').Redis, keys: QueueKeys, delayed: boolean) {
  const [wait, legacy, prioritized, later] = await Promise.all([
    redis.llen(keys.state('waiting')),
    redis.llen(keys.legacyPaused),
    redis.zcard(keys.state('prioritized')),
    delayed ? redis.zcard(keys.state('delayed')) : Promise.resolve(0),
  ])
  return wait + legacy + prioritized + later
}

/**
 * Removes every job waiting to run (and delayed ones with --delayed); running, failed and
 * completed jobs stay. Destructive: asks first, or needs --yes. Exit 1 when nothing was waiting.
 */
export default async function queueDrain(
  ctx: CommandContext,
  name: string,
  options: DrainOptions,
): Promise<CommandResult<QueueDrainData>> {
  const target = ctx.redisUrl()
  const prefix = queuePrefix(ctx, options)
  const dryRun = Boolean(options.dryRun)
  const delayed = Boolean(options.delayed)
  const data = await usingRedis(target, async (redis): Promise<QueueDrainData> => {
    const keys = await requireQueue(redis, prefix, name)
    const matched = await pending(redis, keys, delayed)
    await confirmDeletion(
      ctx,
      dryRun,
      async () => matched,
      (n) =>
        `remove ${describeCount(n, 'job')} waiting${delayed ? ' or delayed' : ''} in ${name} on ${target.display}`,
    )
    if (dryRun || matched === 0)
      return { prefix, queue: name, dryRun, delayed, matched, removed: 0 }
    await usingBullQueue(redis, keys, (queue) => queue.drain(delayed))
    const removed = Math.max(0, matched - (await pending(redis, keys, delayed)))
    return { prefix, queue: name, dryRun, delayed, matched, removed }
  })
  return {
    data,
    exitCode: data.matched === 0 ? ExitCode.failure : ExitCode.ok,
    render: (style) => {
      if (data.matched === 0) return style.yellow(`Nothing to drain: no job waits in ${name}.`)
      if (dryRun) {
        return style.yellow(
          `Dry run: ${data.matched.toLocaleString('en-US')} jobs would go from ${name}; nothing was changed.`,
        )
      }
      return `Drained ${name}: ${data.removed.toLocaleString('en-US')} jobs removed.`
    },
  }
}
