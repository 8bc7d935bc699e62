import { userIdProblem } from '../../../recipes/flags/files/src/flags/evaluate.js'
import { type Actor, resolveActor } from '../../core/actor.js'
import { confirmDestructive } from '../../core/confirm.js'
import { usingKysely } from '../../core/connections/postgres.js'
import type { CommandContext } from '../../core/context.js'
import { usageError } from '../../core/errors.js'
import type { CommandResult, Style } from '../../core/output.js'
import {
  applyChange,
  describeFieldChange,
  diffSettings,
  type FieldChange,
  type FlagChange,
  type FlagSettings,
} from '../../flags/change.js'
import { readFlag, settingsOf, UnknownFlagError, writeFlag } from '../../flags/table.js'
import type { OptionValues } from '../options.js'
import type { flagsSetOptions } from './index.js'
import {
  announceChange,
  applicationName,
  checkFlagName,
  renderSettings,
  tablesOf,
} from './shared.js'

type SetOptions = OptionValues<typeof flagsSetOptions>

export interface FlagsSetData {
  flag: string
  /** `unchanged`: the flag already was so; nothing was written or recorded. */
  action: 'create' | 'update' | 'unchanged'
  dryRun: boolean
  before: FlagSettings | null
  after: FlagSettings
  changes: FieldChange[]
  actor: string
  /** When the change was committed (null on a dry run or when nothing changed). */
  at: string | null
  historyId: number | null
  /** Whether running instances were told (null when there was nothing to tell). */
  published: boolean | null
}

/** The change the options ask for; a usage error when they ask for none or contradict. */
export function changeFrom(options: SetOptions): FlagChange {
  if (options.on && options.off) {
    throw usageError('Pass --on or --off, not both.', '--on turns the flag on, --off turns it off.')
  }
  const change: FlagChange = {}
  if (options.on) change.enabled = true
  if (options.off) change.enabled = false
  if (options.percentage !== undefined) change.percentage = options.percentage
  for (const list of ['allow', 'deny'] as const) {
    const ids = options[list]
    if (ids === undefined) continue
    const problem = ids.map(userIdProblem).find(Boolean)
    if (problem) throw usageError(`--${list}: ${problem}.`, 'Give user ids separated by commas.')
    change[list] = ids
  }
  if (options.description !== undefined) change.description = options.description
  if (Object.keys(change).length === 0) {
    throw usageError(
      'Nothing to set.',
      'Pass --on, --off, --percentage, --allow, --deny or --description (with --create for a new flag).',
    )
  }
  return change
}

/**
 * Changes a flag (creating it only with --create) and records the change with its actor, then
 * announces it so every running instance applies it within a second. Asks first on a terminal;
 * needs --yes otherwise.
 */
export default async function flagsSet(
  ctx: CommandContext,
  name: string,
  options: SetOptions,
): Promise<CommandResult<FlagsSetData>> {
  checkFlagName(name)
  const change = changeFrom(options)
  const dryRun = Boolean(options.dryRun)
  const actor: Actor = resolveActor(ctx, options.actor, ctx.project.root)
  const target = ctx.databaseUrl()
  const tables = tablesOf(ctx)
  const data = await usingKysely(
    target,
    async (db): Promise<FlagsSetData> => {
      const current = await readFlag(db, tables, name)
      if (!current && !options.create) throw new UnknownFlagError(name)
      const before = current && settingsOf(current)
      const planned = applyChange(before, change)
      const outcome = (
        action: FlagsSetData['action'],
        from: FlagSettings | null,
        to: FlagSettings,
        written?: { at: string | null; historyId: number | null },
      ): FlagsSetData => ({
        flag: name,
        action,
        dryRun,
        before: from,
        after: to,
        changes: action === 'unchanged' ? [] : diffSettings(from, to),
        actor: actor.name,
        at: written?.at ?? null,
        historyId: written?.historyId ?? null,
        published: null,
      })
      if (before && diffSettings(before, planned).length === 0) {
        return outcome('unchanged', before, before)
      }
      if (dryRun) return outcome(before ? 'update' : 'create', before, planned)
      await confirmDestructive(
        ctx,
        `${before ? 'change' : 'create'} flag ${name} (${diffSettings(before, planned).map(describeFieldChange).join(', ')}) in ${tables.table} on ${target.display}`,
      )
      // Written against the row as it is once locked: what it was may have changed meanwhile.
      const written = await writeFlag(db, tables, name, change, {
        actor: actor.name,
        create: Boolean(options.create),
      })
      return outcome(
        written.action,
        written.before && settingsOf(written.before),
        settingsOf(written.after),
        {
          at: written.action === 'unchanged' ? null : written.after.updatedAt,
          historyId: written.historyId,
        },
      )
    },
    { applicationName, max: 1 },
  )
  if (!dryRun && data.action !== 'unchanged') {
    data.published = await announceChange(ctx, name, data.action)
  }
  return { data, render: (style) => renderSet(data, style) }
}

function renderSet(data: FlagsSetData, style: Style): string {
  if (data.action === 'unchanged') return `Flag ${data.flag} already is so; nothing changed.`
  const changes = data.changes.map((c) => `  ${describeFieldChange(c)}`)
  if (data.dryRun) {
    return [
      `Flag ${data.flag} would be ${data.action === 'create' ? 'created' : 'changed'}:`,
      ...changes,
      style.yellow('Dry run: nothing was changed.'),
    ].join('\n')
  }
  const lines = [
    `Flag ${data.flag} ${data.action === 'create' ? 'created' : 'changed'} by ${data.actor} (history #${data.historyId}):`,
    ...changes,
    '',
    ...renderSettings(data.after, style),
  ]
  if (data.published) lines.push('', 'Running instances apply it within a second.')
  return lines.join('\n')
}
