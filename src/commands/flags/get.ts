import { usingKysely } from '../../core/connections/postgres.js'
import type { CommandContext } from '../../core/context.js'
import type { CommandResult } from '../../core/output.js'
import { type FlagView, readFlag } from '../../flags/table.js'
import { applicationName, checkFlagName, renderSettings, tablesOf } from './shared.js'

export interface FlagsGetData {
  name: string
  found: boolean
  flag: FlagView | null
}

/** Exit 1 when there is no such flag. */
export default async function flagsGet(
  ctx: CommandContext,
  name: string,
): Promise<CommandResult<FlagsGetData>> {
  checkFlagName(name)
  const tables = tablesOf(ctx)
  const flag = await usingKysely(ctx.databaseUrl(), (db) => readFlag(db, tables, name), {
    applicationName,
    max: 1,
  })
  return {
    data: { name, found: flag !== null, flag },
    exitCode: flag ? 0 : 1,
    render: (style) => {
      if (!flag) return style.yellow(`No flag named ${name} in ${tables.table}.`)
      return [
        style.bold(flag.name),
        ...renderSettings(flag, style),
        `${style.dim('updated')}      ${flag.updatedAt} by ${flag.updatedBy}`,
      ].join('\n')
    },
  }
}
