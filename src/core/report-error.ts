import { BackendkitError, ExitCode, errorMessage } from './errors.js'
import type { Io } from './io.js'
import { colorStyle, plainStyle, useColor } from './output.js'
import { redact } from './redact.js'

/** commander's own errors, recognised by their code (commander stays out of this module). */
function commanderCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('commander.') ? code : undefined
}

/**
 * The top-level error handler: two lines (what went wrong, what to do), the exit code of the
 * contract, the stack only with --debug, and with --json one JSON error value on stdout too.
 * Everything printed is redacted.
 */
export function reportError(error: unknown, io: Io, argv: readonly string[]): number {
  const flags = new Set(argv)
  const json = flags.has('--json')
  const style = useColor(io.stderr, io.env, !flags.has('--no-color')) ? colorStyle : plainStyle
  const hintLine = (hint: string) => io.stderr.write(`${style.dim('hint:')} ${redact(hint)}\n`)

  const commander = commanderCode(error)
  if (commander) {
    // `help <command>` ends as commander.help with exit code 0; help shown because no command
    // was given ends the same way with exit code 1 (a usage error: exit 2 below).
    const asked = commander === 'commander.help' && (error as { exitCode?: unknown }).exitCode === 0
    if (asked || commander === 'commander.helpDisplayed' || commander === 'commander.version') {
      return ExitCode.ok
    }
    // commander printed the problem already, with "Did you mean …?" when it has a guess.
    if (commander !== 'commander.help')
      hintLine('Run `backendkit --help` to see commands and options.')
    if (json) {
      const message = redact(errorMessage(error))
      io.stdout.write(`${JSON.stringify({ error: { message, code: 'E_USAGE' } })}\n`)
    }
    return ExitCode.usage
  }

  const known = error instanceof BackendkitError ? error : undefined
  const message = known ? known.message : `Unexpected error: ${errorMessage(error)}`
  const hint = known
    ? known.hint
    : 'This is a bug in backendkit; run again with --debug and report the output.'
  io.stderr.write(`${style.red('error:')} ${redact(message)}\n`)
  if (hint) hintLine(hint)
  if (flags.has('--debug') && error instanceof Error && error.stack) {
    io.stderr.write(`${redact(error.stack)}\n`)
    if (error.cause instanceof Error && error.cause.stack) {
      io.stderr.write(`caused by: ${redact(error.cause.stack)}\n`)
    }
  }
  if (json) {
    const body = {
      error: {
        message: redact(message),
        code: known?.code ?? 'E_INTERNAL',
        ...(hint ? { hint: redact(hint) } : {}),
      },
    }
    io.stdout.write(`${JSON.stringify(body)}\n`)
  }
  return known ? known.exitCode : ExitCode.failure
}
