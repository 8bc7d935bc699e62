import type { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import type { CommandContext } from '../../core/context.js'
import { BackendkitError, ExitCode } from '../../core/errors.js'
import { type CommandResult, type Style, table } from '../../core/output.js'
import { findQueues, type QueueKeys, queueKeys } from '../../queues/layout.js'

/**
 * BullMQ's key prefix: --queue-prefix, else QUEUE_PREFIX (the environment, then the env file),
 * else queues.prefix of backendkit.json, else "<name>:bull" (BullMQ's own default is "bull").
 */
export function queuePrefix(ctx: CommandContext, options: { queuePrefix?: string }): string {
  return options.queuePrefix ?? ctx.setting('QUEUE_PREFIX') ?? ctx.project.conventions.queuePrefix
}

/** The queue's keys, or exit 1 naming the queues there are (a typo is the usual cause). */
export async function requireQueue(redis: Redis, prefix: string, name: string): Promise<QueueKeys> {
  const keys = queueKeys(prefix, name)
  if (name.includes(':') || !(await redis.exists(keys.meta))) {
    const known = await findQueues(redis, prefix)
    throw new BackendkitError(`No queue "${name}" under the prefix "${prefix}".`, {
      code: 'E_NO_QUEUE',
      exitCode: ExitCode.failure,
      hint: known.length
        ? `The queues there: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}.`
        : 'There is no queue under that prefix: check --queue-prefix (or QUEUE_PREFIX).',
    })
  }
  return keys
}

/**
 * A BullMQ Queue on the command's connection, closed after `fn`. It never writes the queue's
 * meta (a command must not create the queue it was asked about), and BullMQ is loaded only here.
 */
export async function usingBullQueue<T>(
  redis: Redis,
  keys: QueueKeys,
  fn: (queue: Queue) => Promise<T>,
): Promise<T> {
  const { Queue } = await import('bullmq')
  const queue = new Queue(keys.name, {
    connection: redis,
    prefix: keys.prefix,
    skipMetasUpdate: true,
  })
  queue.on('error', () => {}) // the command's own calls report their errors
  try {
    return await fn(queue)
  } finally {
    await queue.close().catch(() => {})
  }
}

/** What happened to one job. */
export interface JobOutcome {
  id: string
  name: string | null
  /** `retried`, `promoted`, `removed`, `selected` (dry run), `missing`, `not-in-state`, `locked`, `error` */
  outcome: string
  error: string | null
}

/** The `--json` shape of `queue retry`, `promote`, `remove` and `clean`. */
export interface JobActionData {
  prefix: string
  queue: string
  action: 'retry' | 'promote' | 'remove' | 'clean'
  state: string
  dryRun: boolean
  /** `ids` (named jobs), `bulk` (BullMQ's own batch script), `filtered` (read, filter, act) */
  mode: 'ids' | 'bulk' | 'filtered'
  /** Jobs looked at (filtered mode) and jobs that matched. */
  scanned: number
  matched: number
  /** How many jobs ended in each outcome. */
  outcomes: Record<string, number>
  /** Each job's outcome: every named job; otherwise the first 100, and every failure. */
  jobs: JobOutcome[]
  /** Why the run stopped before the end (a lost connection), or null. */
  error: string | null
}

export const SHOWN_JOBS = 100

/** Collects outcomes: counts them all, keeps the first few and every failure. */
export class Outcomes {
  readonly counts: Record<string, number> = {}
  readonly jobs: JobOutcome[] = []

  constructor(private readonly success: string) {}

  add(job: JobOutcome, keepAll = false): void {
    this.counts[job.outcome] = (this.counts[job.outcome] ?? 0) + 1
    if (keepAll || this.jobs.length < SHOWN_JOBS || job.outcome !== this.success) {
      this.jobs.push(job)
    }
  }

  get failed(): number {
    return Object.entries(this.counts)
      .filter(([outcome]) => outcome !== this.success && outcome !== 'selected')
      .reduce((sum, [, n]) => sum + n, 0)
  }
}

/** BullMQ's error codes for a job that cannot be moved (its finishedErrors). */
export function outcomeOf(error: unknown): Pick<JobOutcome, 'outcome' | 'error'> {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  const text = typeof message === 'string' ? message : String(error)
  if (code === -1) return { outcome: 'missing', error: null }
  if (code === -3) return { outcome: 'not-in-state', error: null }
  if (code === -2 || code === -6) return { outcome: 'locked', error: null }
  return { outcome: 'error', error: text }
}

/** Runs `act` on one job: `success` when it resolves, else what BullMQ's error means. */
export async function actOnJob(
  job: { id: string; name: string | null },
  success: string,
  act: () => Promise<unknown>,
): Promise<JobOutcome> {
  try {
    await act()
    return { id: job.id, name: job.name, outcome: success, error: null }
  } catch (failure) {
    return { id: job.id, name: job.name, ...outcomeOf(failure) }
  }
}

/**
 * Removes one job (and its logs) and says what happened: `removed`, or `locked` when a worker
 * holds it (an active job stays), or what BullMQ's error means.
 */
export async function removeJob(
  queue: Queue,
  job: { id: string; name: string | null },
): Promise<JobOutcome> {
  try {
    const removed = await queue.remove(job.id)
    return { id: job.id, name: job.name, outcome: removed ? 'removed' : 'locked', error: null }
  } catch (failure) {
    return { id: job.id, name: job.name, ...outcomeOf(failure) }
  }
}

const plural = (n: number, word: string) =>
  `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`

const verbs: Record<JobActionData['action'], string> = {
  retry: 'retried',
  promote: 'promoted',
  remove: 'removed',
  clean: 'removed',
}

/**
 * The result of acting on jobs: exit 1 when nothing matched, when a job could not be acted on,
 * or when the run stopped on an error (after doing everything it could).
 */
export function jobActionResult(data: JobActionData, where: string): CommandResult<JobActionData> {
  const success = verbs[data.action]
  const failures = Object.entries(data.outcomes)
    .filter(([outcome]) => outcome !== success && outcome !== 'selected')
    .reduce((sum, [, n]) => sum + n, 0)
  const failed = data.matched === 0 || failures > 0 || data.error !== null
  return {
    data,
    exitCode: failed ? ExitCode.failure : ExitCode.ok,
    render: (style) => renderJobAction(data, where, style),
  }
}

function renderJobAction(data: JobActionData, where: string, style: Style): string {
  const lines: string[] = []
  const success = verbs[data.action]
  const what = `${data.state === 'any' ? '' : `${data.state} `}jobs of ${data.queue}`
  if (data.jobs.length > 0) {
    const rows = data.jobs.map((job) => {
      const outcome =
        job.outcome === success || job.outcome === 'selected'
          ? job.outcome
          : style.yellow(job.error ? `${job.outcome}: ${job.error}` : job.outcome)
      return [job.id, job.name ?? '', outcome]
    })
    lines.push(table(['JOB', 'NAME', 'OUTCOME'], rows, style))
    if (data.matched > data.jobs.length) {
      lines.push(style.dim(`(the first ${data.jobs.length} of ${plural(data.matched, 'job')})`))
    }
    lines.push('')
  }
  const missing = data.jobs.filter((job) => job.outcome === 'missing').map((job) => job.id)
  if (data.matched === 0 && missing.length > 0) {
    lines.push(
      style.yellow(`No job ${missing.join(', ')} in ${data.queue} on ${where}.`),
      style.dim(`\`backendkit queue inspect ${data.queue} --state failed\` lists the jobs there.`),
    )
  } else if (data.matched === 0) {
    lines.push(style.yellow(`Nothing matched: no ${what} to act on, on ${where}.`))
  } else if (data.dryRun) {
    lines.push(
      style.yellow(
        `Dry run: ${plural(data.matched, 'job')} would be ${success}${data.mode === 'filtered' ? ` (of ${plural(data.scanned, 'job')} looked at)` : ''}; nothing was changed.`,
      ),
    )
  } else {
    const counts = Object.entries(data.outcomes)
      .sort(([a], [b]) => (a === success ? -1 : b === success ? 1 : a.localeCompare(b)))
      .map(([outcome, n]) => `${n.toLocaleString('en-US')} ${outcome}`)
      .join(', ')
    lines.push(`${data.queue} on ${where}: ${counts || `0 ${success}`}.`)
  }
  if (data.error) lines.push(style.red(`Stopped early: ${data.error}`))
  return lines.join('\n')
}
