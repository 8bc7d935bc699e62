import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { type CommandResult, type Style, table } from '../../core/output.js'
import { cronLayout, type RunRecord, readSchedules, type ScheduleView } from '../../cron/layout.js'
import { describeWhen } from './shared.js'

export interface CronListData {
  prefix: string
  schedules: ScheduleView[]
}

function describeRun(run: RunRecord | null, style: Style): string {
  if (!run) return style.dim('never')
  const outcome = {
    completed: style.green('completed'),
    failed: style.red(`failed: ${run.error ?? ''}`),
    skipped: style.yellow('skipped (paused)'),
  }[run.status]
  return `${run.startedAt} ${outcome} in ${run.durationMs} ms${run.manual ? ' (run by hand)' : ''}`
}

/** Every schedule the worker published, with its next run (BullMQ's), pause and last run. */
export default async function cronList(ctx: CommandContext): Promise<CommandResult<CronListData>> {
  const target = ctx.redisUrl()
  const prefix = ctx.keyPrefix()
  const schedules = await usingRedis(target, (redis) => readSchedules(redis, cronLayout(prefix)))
  const data = { prefix, schedules }
  return {
    data,
    render: (style) => {
      if (schedules.length === 0) {
        return `No schedules published under "${prefix}cron:" on ${target.display} (the worker publishes them when it starts).`
      }
      const rows = schedules.map((s) => [
        s.name,
        describeWhen(s),
        s.paused ? style.yellow('paused') : (s.nextRun ?? style.dim('-')),
        describeRun(s.lastRun, style),
      ])
      return table(['SCHEDULE', 'WHEN', 'NEXT RUN', 'LAST RUN'], rows, style)
    },
  }
}
