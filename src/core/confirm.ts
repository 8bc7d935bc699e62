import type { CommandContext } from './context.js'
import { BackendkitError, ExitCode, usageError } from './errors.js'

/**
 * Asks before a destructive action. `--yes` accepts; without a TTY (or under CI) and without
 * `--yes` nothing is changed and the command exits 2 naming the flag to pass.
 */
export async function confirmDestructive(
  ctx: Pick<CommandContext, 'options' | 'interactive'>,
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
  const { confirm, isCancel } = await import('@clack/prompts')
  const answer = await confirm({
    message: `${action[0]?.toUpperCase()}${action.slice(1)}?`,
    initialValue: false,
  })
  if (isCancel(answer) || answer !== true) {
    throw new BackendkitError('Cancelled; nothing was changed.', {
      code: 'E_CANCELLED',
      exitCode: ExitCode.failure,
    })
  }
}
