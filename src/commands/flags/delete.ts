import { resolveActor } from '../../core/actor.js'
import { confirmDestructive } from '../../core/confirm.js'
import { usingKysely } from '../../core/connections/postgres.js'
import type { CommandContext } from '../../core/context.js'
import type { CommandResult } from '../../core/output.js'
import type { FlagSettings } from '../../flags/change.js'
import { deleteFlag, readFlag, settingsOf } from '../../flags/table.js'
import type { OptionValues } from '../options.js'
import type { flagsDeleteOptions } from './index.js'
import {
  announceChange,
  applicationName,
  checkFlagName,
  renderSettings,
  tablesOf,
} from './shared.js'

export interface FlagsDeleteData {
  flag: string
  /** False when there was no such flag (exit 1), and on a dry run. */
  deleted: boolean
  dryRun: boolean
  before: FlagSettings | null
  actor: string
  at: string | null
  historyId: number | null
  published: boolean | null
}

/**
 * Deletes a flag (every instance then answers it off, reason `unknown`) and records it; the
 * history stays. Asks first on a terminal; needs --yes otherwise. Exit 1 when there is no such
 * flag.
 */
export default async function flagsDelete(
  ctx: CommandContext,
  name: string,
  options: OptionValues<typeof flagsDeleteOptions>,
): Promise<CommandResult<FlagsDeleteData>> {
  checkFlagName(name)
  const dryRun = Boolean(options.dryRun)
  const actor = resolveActor(ctx, options.actor, ctx.project.root).name
  const target = ctx.databaseUrl()
  const tables = tablesOf(ctx)
  const data = await usingKysely(
    target,
    async (db): Promise<FlagsDeleteData> => {
      const outcome = (
        before: FlagSettings | null,
        written?: { at: string | null; historyId: number | null },
      ): FlagsDeleteData => ({
        flag: name,
        deleted: written?.historyId != null,
        dryRun,
        before,
        actor,
        at: written?.at ?? null,
        historyId: written?.historyId ?? null,
        published: null,
      })
      const current = await readFlag(db, tables, name)
      if (!current || dryRun) return outcome(current && settingsOf(current))
      await confirmDestructive(
        ctx,
        `delete flag ${name} (${current.enabled ? `on for ${current.percentage} %` : 'off'}) from ${tables.table} on ${target.display}; every instance will answer it off`,
      )
      const done = await deleteFlag(db, tables, name, actor)
      return outcome(done.before && settingsOf(done.before), done)
    },
    { applicationName, max: 1 },
  )
  if (data.deleted) data.published = await announceChange(ctx, name, 'delete')
  const missing = data.before === null
  return {
    data,
    exitCode: missing ? 1 : 0,
    render: (style) => {
      if (missing) return style.yellow(`No flag named ${name} in ${tables.table}; nothing deleted.`)
      if (dryRun) {
        return [
          `Flag ${name} would be deleted:`,
          ...renderSettings(data.before as FlagSettings, style),
          style.yellow('Dry run: nothing was changed.'),
        ].join('\n')
      }
      return `Flag ${name} deleted by ${actor} (history #${data.historyId}); every instance now answers it off.`
    },
  }
}
