import type { Command } from 'commander'
import type { CommandImpl } from './action.js'
import { registerAdd } from './add/index.js'
import { registerCache } from './cache/index.js'
import { registerCron } from './cron/index.js'
import { registerFlags } from './flags/index.js'
import { registerHealth } from './health/index.js'
import { registerDown, registerUp } from './maintenance/index.js'
import { registerMigrate } from './migrate/index.js'
import { registerNew } from './new/index.js'
import { registerQueue } from './queue/index.js'
import { registerRatelimit } from './ratelimit/index.js'
import { registerRecipes } from './recipes/index.js'
import { globalOptions } from './shared-options.js'

/** Turns a lazy import of an implementation into a commander action. */
export type ActionFactory = (
  load: () => Promise<{ default: CommandImpl }>,
) => (...args: unknown[]) => Promise<void>

/** Registers one top-level command; a group adds its verbs only when `withVerbs` is true. */
export type Register = (program: Command, action: ActionFactory, withVerbs: boolean) => void

/** Every command of the CLI, as cheap specs, in help order. Register one only once it works. */
const commands: Record<string, Register> = {
  new: registerNew,
  add: registerAdd,
  recipes: registerRecipes,
  migrate: registerMigrate,
  queue: registerQueue,
  ratelimit: registerRatelimit,
  cache: registerCache,
  flags: registerFlags,
  cron: registerCron,
  health: registerHealth,
  down: registerDown,
  up: registerUp,
}

const globalsWithValue = new Set(
  globalOptions
    .filter((spec) => spec.flags.includes('<'))
    .flatMap((spec) => spec.flags.split(/[\s,]+/).filter((part) => part.startsWith('-'))),
)

/** The top-level command the arguments name (`help cache` names cache), past global options. */
export function namedCommand(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') return argv[i + 1]
    if (!arg.startsWith('-')) return arg === 'help' ? argv[i + 1] : arg
    if (globalsWithValue.has(arg)) i++
  }
  return undefined
}

/**
 * Registers every command. A group's verbs (and their options) are built only when the command
 * line names that group: the top-level help lists groups, not verbs, and every command object
 * costs start time on every run (bench/suites/cli-start.js).
 */
export function registerCommands(
  program: Command,
  action: ActionFactory,
  argv: readonly string[],
): void {
  const named = namedCommand(argv)
  for (const [name, register] of Object.entries(commands)) {
    register(program, action, name === named)
  }
}
