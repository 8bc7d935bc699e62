import type { Command } from 'commander'
import { parseDuration } from '../../core/duration.js'
import type { ActionFactory } from '../index.js'
import { addOptions, describe, option } from '../options.js'
import { operateOptions } from '../shared-options.js'

export const downOptions = [
  option('--retry <duration>', 'Retry-After clients get: seconds, or e.g. 5m', {
    parse: (raw) => Math.ceil(parseDuration(raw) / 1_000),
    default: 60,
    defaultDescription: '60 s',
  }),
  option(
    '--secret <secret>',
    'requests carrying it (header X-Maintenance-Bypass, or the cookie /__maintenance/<secret> sets) still pass',
  ),
  option(
    '--message <text>',
    'what clients are told (default: down for maintenance; try again shortly)',
  ),
  describe(operateOptions.dryRun, 'show the state before → after; change nothing'),
  operateOptions.actor,
] as const

export const upOptions = [
  describe(operateOptions.dryRun, 'show the state before → after; change nothing'),
] as const

export function registerDown(program: Command, action: ActionFactory): void {
  addOptions(
    program
      .command('down')
      .description(
        'maintenance mode: every instance answers 503 with Retry-After within a second (confirm, or --yes)',
      ),
    downOptions,
  ).action(action(() => import('./down.js')))
}

export function registerUp(program: Command, action: ActionFactory): void {
  addOptions(
    program
      .command('up')
      .description('end maintenance mode: every instance serves again within a second'),
    upOptions,
  ).action(action(() => import('./up.js')))
}
