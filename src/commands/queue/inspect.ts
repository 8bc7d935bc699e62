import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { ExitCode } from '../../core/errors.js'
import type { CommandResult, Style } from '../../core/output.js'
import { table } from '../../core/output.js'
import {
  isList,
  type JobDetail,
  type JobState,
  type JobView,
  jobDetail,
  jobView,
  stateOf,
} from '../../queues/layout.js'
import type { OptionValues } from '../options.js'
import type { queueGroupOptions, queueInspectOptions } from './index.js'
import { queuePrefix, requireQueue } from './shared.js'

type InspectOptions = OptionValues<typeof queueGroupOptions> &
  OptionValues<typeof queueInspectOptions>

export interface QueueInspectListData {
  prefix: string
  queue: string
  state: JobState
  /** Jobs in the state (all of them, however many are shown). */
  total: number
  jobs: JobView[]
}

export interface QueueInspectJobData {
  prefix: string
  queue: string
  found: boolean
  job: JobDetail | null
}

const clip = (text: string, width: number) =>
  text.length > width ? `${text.slice(0, width - 1)}…` : text

/**
 * The newest jobs of a state, or one job in full (`--job`). Data is shown with secret-looking
 * fields redacted, as the service logs it.
 */
export default async function queueInspect(
  ctx: CommandContext,
  name: string,
  options: InspectOptions,
): Promise<CommandResult<QueueInspectListData | QueueInspectJobData>> {
  const target = ctx.redisUrl()
  const prefix = queuePrefix(ctx, options)
  const state = options.state
  return usingRedis(target, async (redis) => {
    const keys = await requireQueue(redis, prefix, name)
    if (options.job !== undefined) {
      const id = options.job
      const [hash, logs, where] = await Promise.all([
        redis.hgetall(keys.job(id)),
        redis.lrange(`${keys.job(id)}:logs`, 0, 99),
        stateOf(redis, keys, id),
      ])
      const found = Object.keys(hash).length > 0
      const data: QueueInspectJobData = {
        prefix,
        queue: name,
        found,
        job: found ? jobDetail(id, hash, where, logs) : null,
      }
      return {
        data,
        exitCode: found ? ExitCode.ok : ExitCode.failure,
        render: (style) =>
          data.job ? renderJob(data.job, style) : `No job ${id} in ${name} (prefix "${prefix}").`,
      }
    }
    const key = keys.state(state)
    const limit = options.limit
    // Newest first: lists are pushed at the head, sorted sets scored by time.
    const [ids, total] = isList(state)
      ? await Promise.all([redis.lrange(key, 0, limit - 1), redis.llen(key)])
      : await Promise.all([redis.zrevrange(key, 0, limit - 1), redis.zcard(key)])
    const pipeline = redis.pipeline()
    for (const id of ids) pipeline.hgetall(keys.job(id))
    const hashes = ((await pipeline.exec()) ?? []).map(
      ([, value]) => value as Record<string, string>,
    )
    const jobs = ids
      .map((id, i) => ({ id, hash: hashes[i] ?? {} }))
      .filter(({ hash }) => Object.keys(hash).length > 0)
      .map(({ id, hash }) => jobView(id, hash, state))
    const data: QueueInspectListData = { prefix, queue: name, state, total, jobs }
    return {
      data,
      render: (style) => {
        if (jobs.length === 0) return `No ${state} jobs in ${name}.`
        const when = (job: JobView) => job.finishedAt ?? job.processedAt ?? job.createdAt ?? ''
        const rows = jobs.map((job) => [
          job.id,
          job.name,
          `${job.attemptsMade}${job.maxAttempts ? `/${job.maxAttempts}` : ''}`,
          when(job),
          clip(job.failedReason ?? '', 60),
        ])
        const lines = [
          table(
            ['JOB', 'NAME', 'ATTEMPTS', state === 'failed' ? 'FAILED AT' : 'AT', 'REASON'],
            rows,
            style,
          ),
        ]
        if (total > jobs.length) {
          lines.push(
            style.dim(
              `The newest ${jobs.length} of ${total.toLocaleString('en-US')}; --limit shows more, --job <id> one in full.`,
            ),
          )
        }
        return lines.join('\n')
      },
    }
  })
}

function renderJob(job: JobDetail, style: Style): string {
  const field = (label: string, value: string) => `${style.dim(label.padEnd(10))}${value}`
  const lines = [
    field('job', `${job.id} (${job.name})`),
    field('state', job.state),
    field(
      'attempts',
      `${job.attemptsMade}${job.maxAttempts ? ` of ${job.maxAttempts}` : ''} made, ${job.attemptsStarted} started${job.stalledCounter ? `, stalled ${job.stalledCounter}×` : ''}`,
    ),
    field('created', job.createdAt ?? '-'),
    field('processed', job.processedAt ?? '-'),
    field('finished', job.finishedAt ?? '-'),
  ]
  if (job.failedReason) lines.push(field('reason', style.red(job.failedReason)))
  lines.push(field('data', JSON.stringify(job.data, null, 2).replace(/\n/g, `\n${' '.repeat(10)}`)))
  lines.push(field('options', JSON.stringify(job.opts)))
  if (job.returnValue !== null) lines.push(field('result', JSON.stringify(job.returnValue)))
  if (job.stacktrace.length > 0) {
    lines.push(
      '',
      style.dim('stack (last attempt last):'),
      ...job.stacktrace.flatMap((s) => s.split('\n').map((l) => `  ${l}`)),
    )
  }
  if (job.logs.length > 0) lines.push('', style.dim('log:'), ...job.logs.map((l) => `  ${l}`))
  return lines.join('\n')
}
