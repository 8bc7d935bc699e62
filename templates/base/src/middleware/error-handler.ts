import type { ErrorRequestHandler, RequestHandler } from 'express'
import {
  AppError,
  BadRequestError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnsupportedMediaTypeError,
} from '../lib/errors.js'

/** body-parser reports its failures with a `type`; each becomes the client error it is. */
function fromBodyParser(error: unknown): AppError | undefined {
  const type = (error as { type?: unknown } | null)?.type
  switch (type) {
    case 'entity.parse.failed':
      return new BadRequestError('Malformed JSON in the request body', { code: 'INVALID_JSON' })
    case 'entity.too.large':
      return new PayloadTooLargeError()
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaTypeError('Unsupported body encoding or charset')
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new BadRequestError('Unreadable request body')
    default:
      return undefined
  }
}

/**
 * A dependency that cannot be reached (database down, connection refused or reset, pool
 * exhausted, server shutting down) is the service being unavailable, not a bug: 503, try later.
 */
const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '3D000', // database does not exist (yet)
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
])

function isDependencyUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  if (typeof code === 'string' && unavailableCodes.has(code)) return true
  return (
    typeof message === 'string' &&
    /timeout exceeded when trying to connect|Connection terminated/i.test(message)
  )
}

/** The JSON 404 for a route nobody handles. */
export function notFound(): RequestHandler {
  return function notFoundMiddleware(req, _res, next) {
    next(new NotFoundError(`No route for ${req.method} ${req.path}`))
  }
}

/**
 * The one place errors become responses, registered last. Operational errors (AppError) get
 * their status and `{error: {message, code, details?}}`; an unreachable dependency is a 503;
 * anything else is answered with a bare 500 (no stack, no SQL, no internals) and logged in full,
 * with the request id, on the request's log line.
 */
export function errorHandler(): ErrorRequestHandler {
  return function errorHandlerMiddleware(error, _req, res, next) {
    if (res.headersSent) {
      next(error)
      return
    }
    const known =
      error instanceof AppError
        ? error
        : (fromBodyParser(error) ??
          (isDependencyUnavailable(error)
            ? new ServiceUnavailableError('Service temporarily unavailable', {
                headers: { 'Retry-After': '5' },
              })
            : undefined))
    // pino-http logs the request line with this error (its real stack) when the status is 5xx.
    res.err = error instanceof Error ? error : new Error(String(error))
    if (!known) {
      res.status(500).json({ error: { message: 'Internal server error', code: 'INTERNAL' } })
      return
    }
    res.status(known.status).set(known.headers)
    res.json({
      error: {
        message: known.message,
        code: known.code,
        ...(known.details === undefined ? {} : { details: known.details }),
      },
    })
  }
}
