import { usingKysely } from '../../core/connections/postgres.js'
import type { CommandContext } from '../../core/context.js'
import { type CommandResult, table } from '../../core/output.js'
import { describeFieldChange, diffSettings, NEW_FLAG } from '../../flags/change.js'
import { type HistoryEntry, readHistory } from '../../flags/table.js'
import type { OptionValues } from '../options.js'
import type { flagsHistoryOptions } from './index.js'
import { applicationName, checkFlagName, tablesOf } from './shared.js'

export interface FlagsHistoryData {
  flag: string
  entries: HistoryEntry[]
}

function summary(entry: HistoryEntry): string {
  if (!entry.after) return 'deleted'
  const changes = diffSettings(entry.before, entry.after)
  // A creation lists what differs from a new flag's defaults, not every setting.
  const shown = entry.before
    ? changes
    : changes.filter((c) => JSON.stringify(c.after) !== JSON.stringify(NEW_FLAG[c.field]))
  return shown.map(describeFieldChange).join(', ') || '(defaults)'
}

/** A listing: exit 0 even when the flag has no history. */
export default async function flagsHistory(
  ctx: CommandContext,
  name: string,
  options: OptionValues<typeof flagsHistoryOptions>,
): Promise<CommandResult<FlagsHistoryData>> {
  checkFlagName(name)
  const tables = tablesOf(ctx)
  const entries = await usingKysely(
    ctx.databaseUrl(),
    (db) => readHistory(db, tables, name, options.limit),
    { applicationName, max: 1 },
  )
  return {
    data: { flag: name, entries },
    render: (style) => {
      if (entries.length === 0) return `No history for ${name} in ${tables.history}.`
      const rows = entries.map((e) => [`#${e.id}`, e.at, e.actor, e.action, summary(e)])
      return table(['ID', 'AT', 'BY', 'ACTION', 'CHANGE'], rows, style)
    },
  }
}
