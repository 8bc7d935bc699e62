import type { Command } from 'commander'
import type { CommandImpl } from './action.js'
import { registerAdd } from './add/index.js'
import { registerCache } from './cache/index.js'
import { registerHealth } from './health/index.js'
import { registerMigrate } from './migrate/index.js'
import { registerNew } from './new/index.js'
import { registerRatelimit } from './ratelimit/index.js'
import { registerRecipes } from './recipes/index.js'

/** Turns a lazy import of an implementation into a commander action. */
export type ActionFactory = (
  load: () => Promise<{ default: CommandImpl }>,
) => (...args: unknown[]) => Promise<void>

/** Every command of the CLI, as cheap specs. Register a command only once it is implemented. */
export function registerCommands(program: Command, action: ActionFactory): void {
  registerNew(program, action)
  registerAdd(program, action)
  registerRecipes(program, action)
  registerMigrate(program, action)
  registerRatelimit(program, action)
  registerCache(program, action)
  registerHealth(program, action)
}
