import type { Command } from 'commander'
import type { ActionFactory } from '../index.js'

export function registerRecipes(program: Command, action: ActionFactory): void {
  program
    .command('recipes')
    .description('list the recipes: name, summary, what they require and add')
    .action(action(() => import('./list.js')))
}
