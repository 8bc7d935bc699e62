import { type Command, InvalidArgumentError } from 'commander'
import type { ActionFactory } from '../index.js'
import { addOptions, describe, option, withDefault } from '../options.js'
import { operateOptions } from '../shared-options.js'

function parsePercentage(value: string): number {
  const n = Number(value.replace(/%$/, ''))
  if (!/^\d+%?$/.test(value) || n > 100) {
    throw new InvalidArgumentError('Expected a whole number from 0 to 100.')
  }
  return n
}

/** `a, b,c` → ['a', 'b', 'c']; an empty value clears the list. */
function parseIdList(value: string): string[] {
  return value
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean)
}

export const flagsSetOptions = [
  option('--on', 'turn the flag on (for --percentage of users; 100 % unless set)'),
  option('--off', 'turn the flag off (the allow list still gets it)'),
  option(
    '--percentage <n>',
    'on for n % of users (0–100), chosen by a stable hash of flag and user',
    {
      parse: parsePercentage,
    },
  ),
  option(
    '--allow <ids>',
    'user ids that always get it, comma-separated (replaces the list; "" clears it)',
    {
      parse: parseIdList,
    },
  ),
  option(
    '--deny <ids>',
    'user ids that never get it, comma-separated (replaces the list; "" clears it)',
    {
      parse: parseIdList,
    },
  ),
  option('--description <text>', 'what the flag is for'),
  option(
    '--create',
    'create the flag if it does not exist (without it, an unknown name is an error)',
  ),
  describe(operateOptions.dryRun, 'print the flag before → after; change nothing'),
  operateOptions.actor,
] as const

export const flagsDeleteOptions = [
  describe(operateOptions.dryRun, 'print the flag that would go; change nothing'),
  operateOptions.actor,
] as const

export const flagsEvalOptions = [
  option('--user <id>', 'the user id to evaluate for (required)'),
] as const

export const flagsHistoryOptions = [
  withDefault(operateOptions.limit, 50, 'the newest n changes'),
] as const

export function registerFlags(program: Command, action: ActionFactory, withVerbs: boolean): void {
  const flags = program
    .command('flags')
    .description(
      'list, change and evaluate feature flags (running instances apply a change within a second)',
    )
  if (!withVerbs) return

  flags
    .command('list')
    .description('every flag: on or off, percentage, allow and deny lists')
    .action(action(() => import('./list.js')))

  flags
    .command('get')
    .description('one flag; exit 1 when there is none')
    .argument('<name>', 'the flag, e.g. new-checkout')
    .action(action(() => import('./get.js')))

  addOptions(
    flags
      .command('set')
      .description('change a flag, or create one with --create (confirm, or --yes)')
      .argument('<name>', 'the flag, e.g. new-checkout'),
    flagsSetOptions,
  ).action(action(() => import('./set.js')))

  addOptions(
    flags
      .command('delete')
      .description('delete a flag; its history stays (confirm, or --yes)')
      .argument('<name>', 'the flag'),
    flagsDeleteOptions,
  ).action(action(() => import('./delete.js')))

  addOptions(
    flags
      .command('eval')
      .description('whether the flag is on for a user, and why (what the service answers)')
      .argument('<name>', 'the flag'),
    flagsEvalOptions,
  ).action(action(() => import('./eval.js')))

  addOptions(
    flags
      .command('history')
      .description("a flag's changes, newest first: who, when, before and after")
      .argument('<name>', 'the flag (a deleted one too)'),
    flagsHistoryOptions,
  ).action(action(() => import('./history.js')))
}
