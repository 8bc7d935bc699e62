import path from 'node:path'
import type { CommandContext } from '../../core/context.js'
import type { Style } from '../../core/output.js'
import {
  describeHolder,
  type LockHolder,
  type MigrationOutcome,
  type MigrationReport,
  type MigrationStatus,
} from '../../migrate/engine.js'
import type { OptionValues } from '../options.js'
import type { migrateGroupOptions } from './index.js'

/** What every migrate verb receives from the group's own options. */
export type MigrateOptions = OptionValues<typeof migrateGroupOptions>

/** --migrations (relative to where the user is) wins over backendkit.json (relative to the root). */
export function migrationsDir(ctx: CommandContext, options: MigrateOptions): string {
  if (options.migrations) return path.resolve(ctx.io.cwd, options.migrations)
  return path.resolve(ctx.project.root, ctx.project.conventions.migrationsDir)
}

export const applicationName = 'backendkit migrate'

export function announceWait(ctx: CommandContext) {
  return (holder: LockHolder | undefined) => {
    const who = holder ? ` held by ${describeHolder(holder)}` : ''
    ctx.reporter.info(
      `Waiting for the migration lock${who}; if that run crashed, \`backendkit migrate unlock\` releases it.`,
    )
  }
}

/** How each outcome shows: its mark and its colour. */
const looks: Record<MigrationStatus, { mark: string; paint: keyof Style }> = {
  applied: { mark: '✔', paint: 'green' },
  reverted: { mark: '✔', paint: 'green' },
  failed: { mark: '✖', paint: 'red' },
  'rolled back': { mark: '↺', paint: 'dim' },
  'not run': { mark: '·', paint: 'dim' },
}

function describeOutcome(m: MigrationOutcome, style: Style): string {
  if (m.status === 'failed') return style.red(`failed: ${m.error ?? ''}`)
  if (m.status === 'applied' || m.status === 'reverted') return style.dim(`${m.durationMs ?? 0} ms`)
  return style.dim(m.status)
}

export function renderReport(report: MigrationReport, database: string, style: Style): string {
  const verb = report.direction === 'up' ? 'apply' : 'revert'
  if (report.migrations.length === 0) {
    return report.direction === 'up'
      ? 'Nothing to migrate: every migration is applied.'
      : 'Nothing to revert.'
  }
  const width = Math.max(...report.migrations.map((m) => m.name.length))
  const lines = report.migrations.map((m) => {
    const { mark, paint } = looks[m.status]
    const head = `${style[paint](mark)} ${m.name.padEnd(width)}  ${describeOutcome(m, style)}`
    if (!m.sql) return head
    const statements = m.sql.map((q) => {
      const params = q.parameters.length
        ? `\n    ${style.dim(`-- parameters: ${JSON.stringify(q.parameters)}`)}`
        : ''
      return `    ${q.sql.replace(/\n\s*/g, '\n    ')};${params}`
    })
    return [head, ...(statements.length ? statements : [style.dim('    -- (no SQL)')])].join('\n')
  })
  const n = report.migrations.length
  const plural = `${n} migration${n === 1 ? '' : 's'}`
  let summary: string
  if (!report.ok) {
    summary = style.red(
      `Failed to ${verb} ${plural}; nothing was changed (the batch ran in one transaction and was rolled back).`,
    )
  } else if (report.dryRun) {
    summary = style.yellow(
      `Dry run on ${database}: the SQL above ran in a transaction that was rolled back; nothing was changed.`,
    )
  } else if (report.direction === 'up') {
    summary = `Applied ${plural} to ${database} as batch ${report.batch}.`
  } else {
    summary = `Reverted ${plural} on ${database}.`
  }
  return [...lines, summary].join('\n')
}
