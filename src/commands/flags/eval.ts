import { type EvaluationReason, FlagSet } from '../../../recipes/flags/files/src/flags/evaluate.js'
import { usingKysely } from '../../core/connections/postgres.js'
import type { CommandContext } from '../../core/context.js'
import { usageError } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import { readFlag } from '../../flags/table.js'
import type { OptionValues } from '../options.js'
import type { flagsEvalOptions } from './index.js'
import { applicationName, checkFlagName, tablesOf } from './shared.js'

export interface FlagsEvalData {
  flag: string
  user: string
  enabled: boolean
  reason: EvaluationReason
}

const why: Record<EvaluationReason, string> = {
  deny: 'the user is in its deny list',
  allow: 'the user is in its allow list',
  percentage: 'by the rollout percentage',
  off: 'the flag is off',
  unknown: 'there is no such flag',
}

/**
 * The answer the service gives: the flag as stored, evaluated by the service's own
 * src/flags/evaluate.ts (this command runs that file).
 */
export default async function flagsEval(
  ctx: CommandContext,
  name: string,
  options: OptionValues<typeof flagsEvalOptions>,
): Promise<CommandResult<FlagsEvalData>> {
  checkFlagName(name)
  const user = options.user
  if (user === undefined || user === '') {
    throw usageError(
      'flags eval needs --user <id>.',
      'e.g. `backendkit flags eval new-checkout --user 42`.',
    )
  }
  const tables = tablesOf(ctx)
  const flag = await usingKysely(ctx.databaseUrl(), (db) => readFlag(db, tables, name), {
    applicationName,
    max: 1,
  })
  const { enabled, reason } = new FlagSet(flag ? [flag] : []).evaluate(name, user)
  const data: FlagsEvalData = { flag: name, user, enabled, reason }
  return {
    data,
    render: (style) =>
      `${name} is ${enabled ? style.green('on') : style.yellow('off')} for ${user}: ${why[reason]}.`,
  }
}
