import { usingKysely } from '../../core/connections/postgres.js'
import type { CommandContext } from '../../core/context.js'
import { type CommandResult, table } from '../../core/output.js'
import { readApplied } from '../../migrate/engine.js'
import { listMigrationFiles } from '../../migrate/files.js'
import type { OptionValues } from '../options.js'
import type { migrateGroupOptions, migrateStatusOptions } from './index.js'
import { applicationName, migrationsDir } from './shared.js'

type StatusOptions = OptionValues<[...typeof migrateGroupOptions, ...typeof migrateStatusOptions]>

export interface MigrationState {
  name: string
  /** `missing`: recorded as applied, but its file is gone. */
  status: 'applied' | 'pending' | 'missing'
  batch: number | null
  appliedAt: string | null
}

export interface StatusData {
  applied: number
  pending: number
  missing: number
  migrations: MigrationState[]
}

export default async function migrateStatus(
  ctx: CommandContext,
  options: StatusOptions,
): Promise<CommandResult<StatusData>> {
  const target = ctx.databaseUrl()
  const files = listMigrationFiles(migrationsDir(ctx, options))
  const applied = await usingKysely(target, readApplied, { applicationName, max: 1 })
  const byName = new Map(applied.map((m) => [m.name, m]))
  const onDisk = new Set(files.map((f) => f.name))
  const migrations: MigrationState[] = [
    ...applied.map((m) => ({
      name: m.name,
      status: onDisk.has(m.name) ? ('applied' as const) : ('missing' as const),
      batch: m.batch,
      appliedAt: m.appliedAt,
    })),
    ...files
      .filter((f) => !byName.has(f.name))
      .map((f) => ({ name: f.name, status: 'pending' as const, batch: null, appliedAt: null })),
  ]
  const count = (status: MigrationState['status']) =>
    migrations.filter((m) => m.status === status).length
  const data: StatusData = {
    applied: count('applied'),
    pending: count('pending'),
    missing: count('missing'),
    migrations,
  }
  const failsCheck = Boolean(options.check) && (data.pending > 0 || data.missing > 0)
  return {
    data,
    exitCode: failsCheck ? 1 : 0,
    render: (style) => {
      if (migrations.length === 0) return `No migrations in ${migrationsDir(ctx, options)}.`
      const paint = { applied: style.green, pending: style.yellow, missing: style.red }
      const rows = migrations.map((m) => [
        m.name,
        paint[m.status](m.status),
        m.batch === null ? '' : String(m.batch),
        m.appliedAt ?? '',
      ])
      const summary = [`${data.applied} applied`, `${data.pending} pending`]
      if (data.missing) summary.push(`${data.missing} applied but missing on disk`)
      return `${table(['MIGRATION', 'STATUS', 'BATCH', 'APPLIED AT'], rows, style)}\n${summary.join(', ')}.`
    },
  }
}
