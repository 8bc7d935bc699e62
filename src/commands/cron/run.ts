import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { ExitCode } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import { cronLayout } from '../../cron/layout.js'
import type { OptionValues } from '../options.js'
import type { cronRunOptions } from './index.js'
import { requireSchedule, usingScheduleQueue } from './shared.js'

export interface CronRunData {
  prefix: string
  name: string
  jobId: string
  /** `queued` with --no-wait; `timed-out` when no worker finished it within --timeout. */
  status: 'completed' | 'failed' | 'queued' | 'timed-out'
  durationMs: number | null
  result: unknown
  error: string | null
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs a schedule once now: a job of its queue like a tick's, marked manual, that the service's
 * worker runs and records as the schedule's last run (even while the schedule is paused: it was
 * asked for). Waits for the result unless --no-wait; exit 1 when it failed or did not finish.
 */
export default async function cronRun(
  ctx: CommandContext,
  name: string,
  options: OptionValues<typeof cronRunOptions>,
): Promise<CommandResult<CronRunData>> {
  const target = ctx.redisUrl()
  const prefix = ctx.keyPrefix()
  const data = await usingRedis(target, async (redis): Promise<CronRunData> => {
    const definition = await requireSchedule(redis, cronLayout(prefix), prefix, name)
    return usingScheduleQueue(redis, definition, async (queue) => {
      const job = await queue.add(
        definition.template.name,
        { manual: true, requestedBy: 'backendkit' },
        definition.template.opts,
      )
      const jobId = String(job.id)
      const base = { prefix, name, jobId, durationMs: null, result: null, error: null }
      if (!options.wait) return { ...base, status: 'queued' }
      ctx.reporter.info(`Queued ${name} as job ${jobId}; waiting for a worker to run it…`)
      const deadline = Date.now() + options.timeout
      while (Date.now() < deadline) {
        const state = await queue.getJobState(jobId)
        if (state === 'completed' || state === 'failed') {
          const done = await queue.getJob(jobId)
          const durationMs =
            done?.finishedOn && done.processedOn ? done.finishedOn - done.processedOn : null
          return state === 'completed'
            ? { ...base, status: 'completed', durationMs, result: done?.returnvalue ?? null }
            : { ...base, status: 'failed', durationMs, error: done?.failedReason ?? null }
        }
        await sleep(100)
      }
      return { ...base, status: 'timed-out' }
    })
  })
  return {
    data,
    exitCode:
      data.status === 'completed' || data.status === 'queued' ? ExitCode.ok : ExitCode.failure,
    render: (style) => {
      switch (data.status) {
        case 'completed':
          return `${style.green('✔')} ${name} ran in ${data.durationMs} ms (job ${data.jobId}): ${JSON.stringify(data.result)}`
        case 'failed':
          return `${style.red('✘')} ${name} failed (job ${data.jobId}): ${data.error}\nSee \`backendkit queue inspect cron --job ${data.jobId}\`.`
        case 'queued':
          return `${name} queued as job ${data.jobId}; a worker will run it.`
        default:
          return style.yellow(
            `${name} (job ${data.jobId}) did not finish within ${options.timeout / 1000}s: is a worker running (npm run worker)?`,
          )
      }
    },
  }
}
