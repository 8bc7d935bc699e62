import { usingKysely } from '../../core/connections/postgres.js'
import type { CommandContext } from '../../core/context.js'
import type { CommandResult } from '../../core/output.js'
import { type MigrationReport, QueryCapture, runMigrations } from '../../migrate/engine.js'
import { listMigrationFiles } from '../../migrate/files.js'
import { checkSelection, planUp } from '../../migrate/plan.js'
import type { OptionValues } from '../options.js'
import type { migrateGroupOptions, migrateUpOptions } from './index.js'
import { announceWait, applicationName, migrationsDir, renderReport } from './shared.js'

type UpOptions = OptionValues<[...typeof migrateGroupOptions, ...typeof migrateUpOptions]>

export default async function migrateUp(
  ctx: CommandContext,
  options: UpOptions,
): Promise<CommandResult<MigrationReport>> {
  checkSelection(options)
  const target = ctx.databaseUrl()
  const files = listMigrationFiles(migrationsDir(ctx, options))
  const capture = new QueryCapture()
  const report = await usingKysely(
    target,
    (db) =>
      runMigrations({
        db,
        files,
        direction: 'up',
        select: (applied) => planUp(files, applied, options),
        dryRun: Boolean(options.dryRun),
        capture,
        onWait: announceWait(ctx),
      }),
    { applicationName, log: capture.log, max: 1 },
  )
  return {
    data: report,
    render: (style) => renderReport(report, target.display, style),
    exitCode: report.ok ? 0 : 1,
  }
}
