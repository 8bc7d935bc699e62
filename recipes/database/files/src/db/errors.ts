import { AppError, ConflictError, ServiceUnavailableError } from '../lib/errors.js'
import type { ErrorMapper } from '../module.js'

/** SQLSTATEs that mean PostgreSQL cannot serve right now: 503, try again shortly. */
const unavailable = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement_timeout)
  '53300', // too_many_connections
  '3D000', // database does not exist (yet)
])

/**
 * What PostgreSQL's errors mean for a client. Unavailable: the server is down, restarting or
 * overloaded (503 with Retry-After). Conflicts (409): a unique or foreign key the request ran
 * into (e.g. commenting as a user deleted meanwhile), or a concurrent change that won. A data
 * exception (class 22, e.g. a value out of range) is input validation missed: 400, never a 500.
 */
/** A data exception (SQLSTATE class 22): a value PostgreSQL cannot read for its column. */
export function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('22')
}

export const databaseErrors: ErrorMapper = (error) => {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  if (typeof code === 'string') {
    if (unavailable.has(code) || code.startsWith('08')) return retryLater()
    if (code === '23505')
      return new ConflictError('That already exists', { code: 'ALREADY_EXISTS' })
    if (code === '23503') {
      return new ConflictError('Something this refers to no longer exists', {
        code: 'REFERENCE_GONE',
      })
    }
    if (code === '40001' || code === '40P01') {
      return new ConflictError('A concurrent change won; retry the request', {
        code: 'CONCURRENT_CHANGE',
      })
    }
    if (isDataException(error)) return new AppError(400, 'Invalid value', { code: 'INVALID_VALUE' })
  }
  // pg's own pool and client errors, which carry no SQLSTATE.
  if (
    typeof message === 'string' &&
    /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error/i.test(
      message,
    )
  ) {
    return retryLater()
  }
  return undefined
}

function retryLater(): AppError {
  return new ServiceUnavailableError('Database temporarily unavailable', {
    headers: { 'Retry-After': '5' },
  })
}
