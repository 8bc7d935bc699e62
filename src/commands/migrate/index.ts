import type { Command } from 'commander'
import type { ActionFactory } from '../index.js'
import { addOptions, describe, option } from '../options.js'
import { parsePositiveInt } from '../parse.js'
import { operateOptions } from '../shared-options.js'

const dryRun = describe(
  operateOptions.dryRun,
  'run in a transaction, print the SQL it ran, roll back',
)

/** Options of the `migrate` group itself; every verb receives them too. */
export const migrateGroupOptions = [
  option('--migrations <dir>', 'migrations folder (default: migrations.dir of backendkit.json)'),
] as const

export const migrateUpOptions = [
  option('--step <n>', 'apply only the next n migrations', { parse: parsePositiveInt }),
  option('--to <name>', 'apply pending migrations up to and including <name>'),
  dryRun,
] as const

export const migrateDownOptions = [
  option('--step <n>', 'revert the last n migrations instead', { parse: parsePositiveInt }),
  option('--to <name>', 'revert every migration applied after <name>'),
  describe(operateOptions.all, 'revert every migration'),
  dryRun,
] as const

export const migrateStatusOptions = [
  option('--check', 'exit 1 when any migration is pending (CI gate)'),
] as const

export function registerMigrate(program: Command, action: ActionFactory, withVerbs: boolean): void {
  const migrate = addOptions(
    program
      .command('migrate')
      .description('apply, revert and inspect database migrations (kysely)'),
    migrateGroupOptions,
  )
  if (!withVerbs) return

  addOptions(
    migrate.command('up').description('apply every pending migration as one batch'),
    migrateUpOptions,
  ).action(action(() => import('./up.js')))

  addOptions(
    migrate.command('down').description('revert the last batch (destructive)'),
    migrateDownOptions,
  ).action(action(() => import('./down.js')))

  addOptions(
    migrate.command('status').description('list migrations: applied (batch, time) or pending'),
    migrateStatusOptions,
  ).action(action(() => import('./status.js')))

  migrate
    .command('make')
    .description("create a timestamped migration file from the project's template")
    .argument('<name>', 'what the migration does, e.g. add-users-email-index')
    .action(action(() => import('./make.js')))

  migrate
    .command('unlock')
    .description('release a migration lock left by a crashed or hung run (destructive)')
    .action(action(() => import('./unlock.js')))
}
