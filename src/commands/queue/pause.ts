import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import type { CommandResult } from '../../core/output.js'
import type { OptionValues } from '../options.js'
import type { queueGroupOptions } from './index.js'
import { queuePrefix, requireQueue, usingBullQueue } from './shared.js'

/** The `--json` shape of `queue pause` and `queue resume`. */
export interface QueuePauseData {
  prefix: string
  queue: string
  paused: boolean
  /** False when it already was. */
  changed: boolean
}

/** Pauses (or resumes) a queue for every worker: running jobs finish, no new one starts. */
export async function setPaused(
  ctx: CommandContext,
  name: string,
  options: OptionValues<typeof queueGroupOptions>,
  paused: boolean,
): Promise<CommandResult<QueuePauseData>> {
  const target = ctx.redisUrl()
  const prefix = queuePrefix(ctx, options)
  const data = await usingRedis(target, async (redis) => {
    const keys = await requireQueue(redis, prefix, name)
    const was = (await redis.hexists(keys.meta, 'paused')) === 1
    if (was !== paused) {
      await usingBullQueue(redis, keys, (queue) => (paused ? queue.pause() : queue.resume()))
    }
    return { prefix, queue: name, paused, changed: was !== paused }
  })
  return {
    data,
    render: (style) => {
      const state = paused ? style.yellow('paused') : style.green('running')
      return data.changed
        ? `${name} is ${state} (on ${target.display}).`
        : `${name} was already ${state}; nothing changed.`
    },
  }
}

export default function queuePause(
  ctx: CommandContext,
  name: string,
  options: OptionValues<typeof queueGroupOptions>,
): Promise<CommandResult<QueuePauseData>> {
  return setPaused(ctx, name, options, true)
}
