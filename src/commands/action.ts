import type { Command } from 'commander'
import type { CommandContext } from '../core/context.js'
import type { Io } from '../core/io.js'
import type { CommandResult } from '../core/output.js'

/** What a run of the CLI shares with its command actions. */
export interface Runtime {
  io: Io
  /** Set by the action that ran; printed by the entry point. */
  outcome?: { result: CommandResult; ctx: CommandContext }
}

// biome-ignore lint/suspicious/noExplicitAny: commander hands positional arguments over untyped
export type CommandImpl = (ctx: CommandContext, ...args: any[]) => Promise<CommandResult>

/**
 * The action of a cheap command spec: the implementation (and with it pg, ioredis, bullmq, …) is
 * imported only when this command runs, never for `--help`.
 */
export function lazyAction(runtime: Runtime, load: () => Promise<{ default: CommandImpl }>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args.at(-1) as Command
    const [{ createContext }, implementation] = await Promise.all([
      import('../core/context.js'),
      load(),
    ])
    const ctx = createContext(runtime.io, command)
    // Positional arguments, then the options of this command merged with its ancestors'.
    const positional = args.slice(0, -2)
    const result = await implementation.default(ctx, ...positional, command.optsWithGlobals())
    runtime.outcome = { result, ctx }
  }
}
