import { type Command, InvalidArgumentError } from 'commander'
import { POLICY_NAME } from '../../ratelimit/layout.js'
import type { ActionFactory } from '../index.js'
import { addOptions, describe, option, withDefault } from '../options.js'
import { operateOptions } from '../shared-options.js'

function parsePolicyName(value: string): string {
  if (!POLICY_NAME.test(value)) {
    throw new InvalidArgumentError('Expected a policy name: lowercase letters, digits, _ and -.')
  }
  return value
}

const policy = option('--policy <name>', 'only this policy (default: every policy)', {
  parse: parsePolicyName,
})

export const ratelimitListOptions = [
  describe(operateOptions.match, 'only identities matching this Redis glob, e.g. "ip:10.*"'),
  policy,
  withDefault(operateOptions.limit, 100, 'show at most n keys, the busiest first'),
] as const

export const ratelimitResetOptions = [
  describe(operateOptions.match, 'reset every identity matching this Redis glob'),
  policy,
  describe(operateOptions.dryRun, 'list the keys that would be cleared; change nothing'),
] as const

export function registerRatelimit(
  program: Command,
  action: ActionFactory,
  withVerbs: boolean,
): void {
  const ratelimit = program
    .command('ratelimit')
    .description("inspect and reset the service's sliding-window rate limits (Redis)")
  if (!withVerbs) return

  addOptions(
    ratelimit
      .command('list')
      .description('rate-limited identities: policy, count, remaining, reset'),
    ratelimitListOptions,
  ).action(action(() => import('./list.js')))

  ratelimit
    .command('inspect')
    .description("one identity's state in every policy")
    .argument('<identity>', 'e.g. ip:203.0.113.7 or user:42')
    .action(action(() => import('./inspect.js')))

  addOptions(
    ratelimit
      .command('reset')
      .description('clear identities so they are admitted again at once (destructive)')
      .argument('[identity...]', 'identities to clear, taken literally (or use --match)'),
    ratelimitResetOptions,
  ).action(action(() => import('./reset.js')))
}
