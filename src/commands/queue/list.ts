import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import type { CommandResult } from '../../core/output.js'
import { table } from '../../core/output.js'
import { findQueues, type QueueSummary, summarizeQueues } from '../../queues/layout.js'
import type { OptionValues } from '../options.js'
import type { queueGroupOptions } from './index.js'
import { queuePrefix } from './shared.js'

export interface QueueListData {
  prefix: string
  queues: QueueSummary[]
}

const columns = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
  'completed',
] as const

/** Every queue under the prefix (SCAN for `<prefix>:*:meta`) with its jobs per state. */
export default async function queueList(
  ctx: CommandContext,
  options: OptionValues<typeof queueGroupOptions>,
): Promise<CommandResult<QueueListData>> {
  const target = ctx.redisUrl()
  const prefix = queuePrefix(ctx, options)
  const data = await usingRedis(target, async (redis) => ({
    prefix,
    queues: await summarizeQueues(redis, prefix, await findQueues(redis, prefix)),
  }))
  return {
    data,
    render: (style) => {
      if (data.queues.length === 0) {
        return `No queues under the prefix "${prefix}" on ${target.display}.`
      }
      const rows = data.queues.map((q) => [
        q.name,
        ...columns.map((state) => {
          const n = q.counts[state]
          const text = n.toLocaleString('en-US')
          return state === 'failed' && n > 0 ? style.red(text) : text
        }),
        q.paused ? style.yellow('paused') : '',
      ])
      return table(
        [
          'QUEUE',
          'WAITING',
          'ACTIVE',
          'DELAYED',
          'PRIORITIZED',
          'CHILDREN',
          'FAILED',
          'COMPLETED',
          '',
        ],
        rows,
        style,
        ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
      )
    },
  }
}
