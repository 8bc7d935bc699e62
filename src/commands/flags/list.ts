import { usingKysely } from '../../core/connections/postgres.js'
import type { CommandContext } from '../../core/context.js'
import { type CommandResult, table } from '../../core/output.js'
import { type FlagView, listFlags } from '../../flags/table.js'
import { applicationName, tablesOf } from './shared.js'

export interface FlagsListData {
  table: string
  flags: FlagView[]
}

export default async function flagsList(
  ctx: CommandContext,
): Promise<CommandResult<FlagsListData>> {
  const tables = tablesOf(ctx)
  const flags = await usingKysely(ctx.databaseUrl(), (db) => listFlags(db, tables), {
    applicationName,
    max: 1,
  })
  const data = { table: tables.table, flags }
  return {
    data,
    render: (style) => {
      if (flags.length === 0) {
        return `No flags in ${tables.table}. Create one with \`backendkit flags set <name> --create --on\`.`
      }
      const ids = (list: string[]) => (list.length ? String(list.length) : '-')
      const rows = flags.map((f) => [
        f.name,
        f.enabled ? style.green('on') : style.yellow('off'),
        `${f.percentage} %`,
        ids(f.allow),
        ids(f.deny),
        f.updatedAt,
        f.updatedBy,
        f.description,
      ])
      return table(
        ['FLAG', 'STATE', 'ROLLOUT', 'ALLOW', 'DENY', 'UPDATED AT', 'BY', 'DESCRIPTION'],
        rows,
        style,
        ['left', 'left', 'right', 'right', 'right'],
      )
    },
  }
}
