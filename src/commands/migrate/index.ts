import type { Command } from 'commander'
import { parsePositiveInt } from '../action.js'
import type { ActionFactory } from '../index.js'

export function registerMigrate(program: Command, action: ActionFactory): void {
  const migrate = program
    .command('migrate')
    .description('apply, revert and inspect database migrations (kysely)')
    .option('--migrations <dir>', 'migrations folder (default: migrations.dir of backendkit.json)')

  migrate
    .command('up')
    .description('apply every pending migration as one batch')
    .option('--step <n>', 'apply only the next n migrations', parsePositiveInt)
    .option('--to <name>', 'apply pending migrations up to and including <name>')
    .option('--dry-run', 'run in a transaction, print the SQL it ran, roll back')
    .action(action(() => import('./up.js')))

  migrate
    .command('down')
    .description('revert the last batch (destructive)')
    .option('--step <n>', 'revert the last n migrations instead', parsePositiveInt)
    .option('--to <name>', 'revert every migration applied after <name>')
    .option('--all', 'revert every migration')
    .option('--dry-run', 'run in a transaction, print the SQL it ran, roll back')
    .action(action(() => import('./down.js')))

  migrate
    .command('status')
    .description('list migrations: applied (batch, time) or pending')
    .option('--check', 'exit 1 when any migration is pending (CI gate)')
    .action(action(() => import('./status.js')))

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
