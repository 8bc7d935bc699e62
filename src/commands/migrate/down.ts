import { confirmDestructive } from '../../core/confirm.js'
import { usingKysely } from '../../core/connections/postgres.js'
import type { CommandContext } from '../../core/context.js'
import { BackendkitError } from '../../core/errors.js'
import type { CommandResult } from '../../core/output.js'
import {
  type MigrationReport,
  QueryCapture,
  readApplied,
  runMigrations,
} from '../../migrate/engine.js'
import { listMigrationFiles } from '../../migrate/files.js'
import { checkSelection, planDown } from '../../migrate/plan.js'
import type { OptionValues } from '../options.js'
import type { migrateDownOptions, migrateGroupOptions } from './index.js'
import { announceWait, applicationName, migrationsDir, renderReport } from './shared.js'

type DownOptions = OptionValues<[...typeof migrateGroupOptions, ...typeof migrateDownOptions]>

export default async function migrateDown(
  ctx: CommandContext,
  options: DownOptions,
): Promise<CommandResult<MigrationReport>> {
  checkSelection(options)
  const target = ctx.databaseUrl()
  const files = listMigrationFiles(migrationsDir(ctx, options))
  const capture = new QueryCapture()
  const dryRun = Boolean(options.dryRun)
  const report = await usingKysely(
    target,
    async (db) => {
      // Confirm what will be reverted before taking the lock; re-check it once the lock is held.
      const planned = planDown(files, await readApplied(db), options)
      if (planned.length > 0 && !dryRun) {
        await confirmDestructive(
          ctx,
          `revert ${planned.length} migration${planned.length === 1 ? '' : 's'} (${planned.join(', ')}) on ${target.display}`,
        )
      }
      return runMigrations({
        db,
        files,
        direction: 'down',
        select: (applied) => {
          const now = planDown(files, applied, options)
          if (now.join() !== planned.join()) {
            throw new BackendkitError(
              'The applied migrations changed while waiting; nothing was reverted.',
              {
                hint: 'Run `backendkit migrate status`, then the command again.',
              },
            )
          }
          return now
        },
        dryRun,
        capture,
        onWait: announceWait(ctx),
      })
    },
    { applicationName, log: capture.log, max: 1 },
  )
  return {
    data: report,
    render: (style) => renderReport(report, target.display, style),
    exitCode: report.ok ? 0 : 1,
  }
}
