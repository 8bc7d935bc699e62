import type { Command } from 'commander'
import { parseDuration } from '../../core/duration.js'
import type { ActionFactory } from '../index.js'
import { addOptions, describe, option, withDefault } from '../options.js'
import { operateOptions } from '../shared-options.js'

/** Options of the `queue` group itself; every verb receives them too. */
export const queueGroupOptions = [
  option(
    '--queue-prefix <prefix>',
    'BullMQ key prefix (default: $QUEUE_PREFIX, else queues.prefix of backendkit.json, else "<name>:bull")',
  ),
] as const

export const queueInspectOptions = [
  withDefault(operateOptions.state, 'failed', 'list the jobs in this state'),
  withDefault(operateOptions.limit, 20, 'show at most n jobs, the newest first'),
  option('--job <id>', 'one job in full: data, options, attempts, reason, stack trace, log'),
] as const

const filters = [
  describe(operateOptions.name, 'only jobs with this name (with --all)'),
  describe(operateOptions.reason, 'only jobs whose failure reason matches (with --all)'),
  describe(
    operateOptions.since,
    'only jobs that finished from then on (with --all; 30m, 2h, ISO time)',
  ),
  describe(operateOptions.until, 'only jobs that finished up to then (with --all)'),
  describe(operateOptions.limit, 'at most n jobs, the oldest first (with --all)'),
] as const

export const queueRetryOptions = [
  describe(operateOptions.all, 'every job in --state that passes the filters'),
  withDefault(operateOptions.state, 'failed', 'failed or completed'),
  ...filters,
  describe(operateOptions.dryRun, 'count and list the jobs that would be retried; change nothing'),
] as const

export const queuePromoteOptions = [
  describe(operateOptions.all, 'every delayed job that passes the filters'),
  describe(operateOptions.name, 'only jobs with this name (with --all)'),
  describe(operateOptions.limit, 'at most n jobs, the soonest due first (with --all)'),
  describe(operateOptions.dryRun, 'count and list the jobs that would run now; change nothing'),
] as const

export const queueRemoveOptions = [
  describe(operateOptions.dryRun, 'show which of the jobs exist; remove nothing'),
] as const

export const queueCleanOptions = [
  withDefault(
    operateOptions.state,
    'completed',
    'completed, failed, delayed, prioritized or waiting',
  ),
  option('--older-than <duration>', 'only jobs older than this, e.g. 1h or 7d (required)', {
    parse: parseDuration,
  }),
  describe(operateOptions.limit, 'remove at most n jobs'),
  describe(operateOptions.dryRun, 'count the jobs that would go; remove nothing'),
] as const

export const queueDrainOptions = [
  option('--delayed', 'delayed jobs too'),
  describe(operateOptions.dryRun, 'count the jobs that would go; remove nothing'),
] as const

export const queueObliterateOptions = [
  option('--force', 'even with jobs running (their workers fail to complete them)'),
  describe(operateOptions.dryRun, 'count what would go; remove nothing'),
] as const

export function registerQueue(program: Command, action: ActionFactory, withVerbs: boolean): void {
  const queue = addOptions(
    program
      .command('queue')
      .description('inspect, retry and manage BullMQ queues and jobs (Redis)'),
    queueGroupOptions,
  )
  if (!withVerbs) return

  queue
    .command('list')
    .description('every queue under the prefix: jobs per state, paused or not')
    .action(action(() => import('./list.js')))

  addOptions(
    queue
      .command('inspect')
      .description('jobs in a state (failed by default), or one job in full with --job')
      .argument('<queue>', 'the queue name'),
    queueInspectOptions,
  ).action(action(() => import('./inspect.js')))

  addOptions(
    queue
      .command('retry')
      .description('run failed (or completed) jobs again: named ones, or --all with filters')
      .argument('<queue>', 'the queue name')
      .argument('[jobId...]', 'the jobs to retry (or use --all)'),
    queueRetryOptions,
  ).action(action(() => import('./retry.js')))

  addOptions(
    queue
      .command('remove')
      .description('remove jobs (destructive)')
      .argument('<queue>', 'the queue name')
      .argument('<jobId...>', 'the jobs to remove'),
    queueRemoveOptions,
  ).action(action(() => import('./remove.js')))

  addOptions(
    queue
      .command('clean')
      .description('remove the jobs of a state older than --older-than (destructive)')
      .argument('<queue>', 'the queue name'),
    queueCleanOptions,
  ).action(action(() => import('./clean.js')))

  queue
    .command('pause')
    .description('stop workers from taking new jobs (running ones finish)')
    .argument('<queue>', 'the queue name')
    .action(action(() => import('./pause.js')))

  queue
    .command('resume')
    .description('let workers take jobs again')
    .argument('<queue>', 'the queue name')
    .action(action(() => import('./resume.js')))

  addOptions(
    queue
      .command('drain')
      .description('remove every waiting job, and delayed ones with --delayed (destructive)')
      .argument('<queue>', 'the queue name'),
    queueDrainOptions,
  ).action(action(() => import('./drain.js')))

  addOptions(
    queue
      .command('obliterate')
      .description('remove the queue and every job in it (destructive)')
      .argument('<queue>', 'the queue name'),
    queueObliterateOptions,
  ).action(action(() => import('./obliterate.js')))

  addOptions(
    queue
      .command('promote')
      .description('run delayed jobs now: named ones, or --all')
      .argument('<queue>', 'the queue name')
      .argument('[jobId...]', 'the delayed jobs to promote (or use --all)'),
    queuePromoteOptions,
  ).action(action(() => import('./promote.js')))
}
