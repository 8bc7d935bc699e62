import type { Command } from 'commander'
import { parseDuration } from '../../core/duration.js'
import type { ActionFactory } from '../index.js'
import { addOptions, option } from '../options.js'

export const cronRunOptions = [
  option('--no-wait', 'only queue the run; do not wait for its result'),
  option('--timeout <duration>', 'how long to wait for the run to finish', {
    parse: parseDuration,
    default: 60_000,
    defaultDescription: '60s',
  }),
] as const

export function registerCron(program: Command, action: ActionFactory, withVerbs: boolean): void {
  const cron = program
    .command('cron')
    .description("list, run, pause and resume the service's scheduled jobs (BullMQ schedulers)")
  if (!withVerbs) return

  cron
    .command('list')
    .description('every schedule: pattern or interval, time zone, next run, last run, paused')
    .action(action(() => import('./list.js')))

  addOptions(
    cron
      .command('run')
      .description('run a schedule once now, recorded like a tick')
      .argument('<name>', 'the schedule'),
    cronRunOptions,
  ).action(action(() => import('./run.js')))

  cron
    .command('pause')
    .description('stop a schedule on every instance until resumed (restarts included)')
    .argument('<name>', 'the schedule')
    .action(action(() => import('./pause.js')))

  cron
    .command('resume')
    .description('start a paused schedule again')
    .argument('<name>', 'the schedule')
    .action(action(() => import('./resume.js')))
}
