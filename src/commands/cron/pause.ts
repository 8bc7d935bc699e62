import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import type { CommandResult } from '../../core/output.js'
import { cronLayout } from '../../cron/layout.js'
import { requireSchedule, upsertScheduler, usingScheduleQueue } from './shared.js'

/** The `--json` shape of `cron pause` and `cron resume`. */
export interface CronPauseData {
  prefix: string
  name: string
  paused: boolean
  /** False when it already was. */
  changed: boolean
  /** The next run once resumed (ISO); null while paused. */
  nextRun: string | null
}

/**
 * Pauses a schedule on every instance: the mark (`<p>cron:paused`) that workers honour at start,
 * and its BullMQ scheduler removed, so no tick is made; a tick already queued is skipped. Resume
 * clears the mark and creates the scheduler again from the published definition.
 */
export async function setSchedulePaused(
  ctx: CommandContext,
  name: string,
  paused: boolean,
): Promise<CommandResult<CronPauseData>> {
  const target = ctx.redisUrl()
  const prefix = ctx.keyPrefix()
  const layout = cronLayout(prefix)
  const data = await usingRedis(target, async (redis): Promise<CronPauseData> => {
    const definition = await requireSchedule(redis, layout, prefix, name)
    const was = (await redis.hexists(layout.paused, name)) === 1
    return usingScheduleQueue(redis, definition, async (queue) => {
      if (paused) {
        // the mark first: a worker starting meanwhile sees it and leaves the scheduler out
        await redis.hset(layout.paused, name, new Date().toISOString())
        await queue.removeJobScheduler(name)
        return { prefix, name, paused, changed: !was, nextRun: null }
      }
      await redis.hdel(layout.paused, name)
      await upsertScheduler(queue, definition)
      const next = await queue.getJobScheduler(name)
      return {
        prefix,
        name,
        paused,
        changed: was,
        nextRun: next?.next ? new Date(Number(next.next)).toISOString() : null,
      }
    })
  })
  return {
    data,
    render: (style) => {
      if (!data.changed)
        return `${name} was already ${paused ? 'paused' : 'running'}; nothing changed.`
      return paused
        ? `${name} is ${style.yellow('paused')} on every instance until \`backendkit cron resume ${name}\`.`
        : `${name} ${style.green('resumed')}; next run ${data.nextRun ?? 'unknown'}.`
    },
  }
}

export default function cronPause(ctx: CommandContext, name: string) {
  return setSchedulePaused(ctx, name, true)
}
