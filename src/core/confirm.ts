import type { CommandContext } from './context.js'
import { BackendkitError, ExitCode, usageError } from './errors.js'
import { redact } from './redact.js'

/**
 * Asks before a destructive action. `--yes` accepts; without a TTY (or under CI) and without
 * `--yes` nothing is changed and the command exits 2 naming the flag to pass. The question goes
 * through `io.prompt` (clack on a terminal; an answering stub in tests).
 */
export async function confirmDestructive(
  ctx: Pick<CommandContext, 'options' | 'interactive' | 'io'>,
  action: string,
): Promise<void> {
  if (ctx.options.yes) return
  if (!ctx.interactive) {
    throw usageError(
      `Refusing to ${action} without confirmation.`,
      'Pass --yes to confirm (there is no terminal to ask on).',
      'E_CONFIRM',
    )
  }
  const question = redact(`${action[0]?.toUpperCase()}${action.slice(1)}?`)
  if (!(await ctx.io.prompt.confirm(question))) {
    throw new BackendkitError('Cancelled; nothing was changed.', {
      code: 'E_CANCELLED',
      exitCode: ExitCode.failure,
    })
  }
}
