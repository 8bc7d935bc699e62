/** Exit codes of the CLI contract (DESIGN.md). */
export const ExitCode = {
  ok: 0,
  /** The operation failed, or the target is unhealthy / not as required. */
  failure: 1,
  /** Usage or configuration error: bad flag, unknown recipe, missing URL, not a project. */
  usage: 2,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface BackendkitErrorOptions {
  /** One line telling the user what to do next. */
  hint?: string
  /** Stable machine-readable code, part of the `--json` error shape. */
  code?: string
  exitCode?: ExitCode
  cause?: unknown
}

/**
 * The one error type meant for users. The top-level handler prints its message and hint and
 * exits with its code; anything else that escapes is treated as a bug (exit 1, stack on --debug).
 */
export class BackendkitError extends Error {
  readonly hint: string | undefined
  readonly code: string
  readonly exitCode: ExitCode

  constructor(message: string, options: BackendkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'BackendkitError'
    this.hint = options.hint
    this.code = options.code ?? 'E_FAILED'
    this.exitCode = options.exitCode ?? ExitCode.failure
  }
}

export function usageError(message: string, hint?: string, code = 'E_USAGE'): BackendkitError {
  return new BackendkitError(message, { hint, code, exitCode: ExitCode.usage })
}

export function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return errorMessage(error.errors[0])
  }
  if (error instanceof Error) return error.message || error.name
  return String(error)
}

const fsReasons: Record<string, [reason: string, hint: string]> = {
  EACCES: ['permission denied', 'Choose a place you can write to, or fix its permissions.'],
  EPERM: ['operation not permitted', 'Choose a place you can write to, or fix its permissions.'],
  EROFS: ['read-only file system', 'Choose a writable place.'],
  ENOSPC: ['no space left on the device', 'Free some space and run it again.'],
  ENOTDIR: ['a part of the path is a file', 'Check the path.'],
}

/** A file-system failure the user can act on (permissions, space) as a BackendkitError. */
export function fileSystemError(error: unknown, action: string): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code
  const known = code ? fsReasons[code] : undefined
  if (!known) return error
  const where = (error as NodeJS.ErrnoException).path
  return new BackendkitError(`Cannot ${action}${where ? ` (${where})` : ''}: ${known[0]}`, {
    hint: known[1],
    code: 'E_FS',
    cause: error,
  })
}
