import { BackendkitError, errorMessage } from '../errors.js'
import { redact } from '../redact.js'
import type { ConnectionUrl, ServiceKind } from '../urls.js'

/**
 * The contract says a connection that cannot be made fails within 5 s; 4 s for the connection
 * leaves room for Node's start and the report, so the whole command ends within 5 s.
 */
export const CONNECT_TIMEOUT_MS = 4_000

const reasons: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: `timed out after ${CONNECT_TIMEOUT_MS / 1000} s`,
  ECONNRESET: 'connection reset',
  '28P01': 'authentication failed',
  '28000': 'authentication rejected',
  '3D000': 'database does not exist',
}

function reasonOf(error: unknown): string {
  const candidates = error instanceof AggregateError ? [error, ...error.errors] : [error]
  for (const candidate of candidates) {
    const code = (candidate as { code?: unknown } | null)?.code
    if (typeof code === 'string' && reasons[code]) return reasons[code]
  }
  const message = errorMessage(error)
  if (/timeout|timed out/i.test(message)) return `timed out after ${CONNECT_TIMEOUT_MS / 1000} s`
  return redact(message)
}

/** "Cannot connect to PostgreSQL at db.internal:5432: connection refused" — never the password. */
export function connectionError(
  kind: ServiceKind,
  target: ConnectionUrl,
  error: unknown,
): BackendkitError {
  return new BackendkitError(
    `Cannot connect to ${kind.label} at ${target.address}: ${reasonOf(error)}`,
    {
      hint: `Check that ${kind.label} is running and reachable, and that ${kind.envVar} (or ${kind.flag}) is right.`,
      code: 'E_CONNECT',
      cause: error,
    },
  )
}
