import { flagNameProblem } from '../../../recipes/flags/files/src/flags/evaluate.js'
import { usingRedis } from '../../core/connections/redis.js'
import type { CommandContext } from '../../core/context.js'
import { errorMessage, usageError } from '../../core/errors.js'
import type { Style } from '../../core/output.js'
import type { FlagSettings } from '../../flags/change.js'
import { type FlagTables, flagTables } from '../../flags/table.js'

/** PostgreSQL connections show as `backendkit:flags` in pg_stat_activity. */
export const applicationName = 'backendkit:flags'

/** A bad flag name is a usage error naming the rule (the service's table enforces it too). */
export function checkFlagName(name: string): string {
  const problem = flagNameProblem(name)
  if (problem) throw usageError(`${problem}.`, 'Flag names look like new-checkout or search.v2.')
  return name
}

export function tablesOf(ctx: Pick<CommandContext, 'project'>): FlagTables {
  return flagTables(ctx.project.conventions.flagsTable)
}

/**
 * Tells the running instances a flag changed (PUBLISH on `flags.channel`), after the change is
 * committed. Failing to announce is not failing the change: instances poll, so it arrives within
 * their FLAGS_POLL_INTERVAL_S; the user is told so on stderr.
 */
export async function announceChange(
  ctx: Pick<CommandContext, 'redisUrl' | 'project' | 'reporter'>,
  flag: string,
  action: string,
): Promise<boolean> {
  const channel = ctx.project.conventions.flagsChannel
  let reason: string
  try {
    const target = ctx.redisUrl()
    const message = JSON.stringify({ flag, action, at: new Date().toISOString() })
    await usingRedis(target, (redis) => redis.publish(channel, message))
    return true
  } catch (error) {
    reason = errorMessage(error)
  }
  ctx.reporter.info(
    `warning: the change is saved but could not be announced on ${channel} (${reason}); running instances pick it up at their next poll (FLAGS_POLL_INTERVAL_S).`,
  )
  return false
}

const list = (items: readonly string[]) => (items.length ? items.join(', ') : '-')

/** The settings, one per line, for `flags get` and the result of a change. */
export function renderSettings(settings: FlagSettings, style: Style): string[] {
  const state = settings.enabled
    ? style.green(`on for ${settings.percentage} %`)
    : style.yellow('off')
  return [
    `${style.dim('state')}        ${state}${!settings.enabled && settings.percentage < 100 ? style.dim(` (${settings.percentage} % once on)`) : ''}`,
    `${style.dim('allow')}        ${list(settings.allow)}`,
    `${style.dim('deny')}         ${list(settings.deny)}`,
    `${style.dim('description')}  ${settings.description || '-'}`,
  ]
}
