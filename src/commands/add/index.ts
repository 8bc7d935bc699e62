import type { Command } from 'commander'
import type { ActionFactory } from '../index.js'

export function registerAdd(program: Command, action: ActionFactory): void {
  program
    .command('add')
    .description('add recipes (and what they require) to an existing project')
    .argument('<recipe...>', 'recipes to add (see `backendkit recipes`)')
    .option('--dry-run', 'print the plan, write nothing')
    .action(action(() => import('./run.js')))
}
