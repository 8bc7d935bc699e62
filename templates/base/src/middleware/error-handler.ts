import { STATUS_CODES } from 'node:http'
import type { ErrorRequestHandler, RequestHandler } from 'express'
import {
  AppError,
  BadRequestError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnsupportedMediaTypeError,
} from '../lib/errors.js'
import type { ErrorMapper } from '../module.js'

/** body-parser reports its failures with a `type`; each becomes the client error it is. */
function fromBodyParser(type: unknown): AppError | undefined {
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
 * Errors the HTTP layer raises for a bad request carry a 4xx `status` (a body labelled gzip that
 * does not inflate, a path with a malformed %-escape): the client's fault, never a 500. Their
 * messages come from libraries (zlib's "incorrect header check"), so clients get a stable one.
 */
function fromHttpLayer(error: unknown): AppError | undefined {
  const { status, statusCode, type, code } = (error ?? {}) as {
    status?: unknown
    statusCode?: unknown
    type?: unknown
    code?: unknown
  }
  const byType = fromBodyParser(type)
  if (byType) return byType
  const httpStatus = typeof status === 'number' ? status : statusCode
  if (typeof httpStatus !== 'number' || httpStatus < 400 || httpStatus > 499) return undefined
  if (error instanceof URIError) {
    return new BadRequestError('Malformed percent-encoding in the URL', { code: 'INVALID_URL' })
  }
  // zlib (gzip, deflate) and brotli failures: the body is not what its Content-Encoding says.
  if (typeof code === 'string' && /^(Z_|ERR__ERROR_)/.test(code)) {
    return new BadRequestError('The request body does not match its Content-Encoding', {
      code: 'INVALID_BODY_ENCODING',
    })
  }
  return new AppError(httpStatus, STATUS_CODES[httpStatus] ?? 'Bad request', {
    code: 'BAD_REQUEST',
  })
}

/**
 * A dependency that cannot be reached over the network (connection refused or reset, host
 * unknown, timed out) is the service being unavailable, not a bug: 503, try later. Each module
 * maps its own library's errors too (ModuleInstance.mapError), e.g. the database's pool timeouts.
 */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
])

function fromNetwork(error: unknown): AppError | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string' || !unreachableCodes.has(code)) return undefined
  return new ServiceUnavailableError('Service temporarily unavailable', {
    headers: { 'Retry-After': '5' },
  })
}

/** The cause of an expected 5xx for the log line: what failed, without a stack trace. */
function causeOf(error: unknown): Error {
  const cause = new Error(error instanceof Error ? error.message : String(error))
  cause.name = error instanceof Error ? error.name : 'Error'
  delete cause.stack
  return cause
}

/** The JSON 404 for a route nobody handles. */
export function notFound(): RequestHandler {
  return function notFoundMiddleware(req, _res, next) {
    next(new NotFoundError(`No route for ${req.method} ${req.path}`))
  }
}

/**
 * The one place errors become responses, registered last. Operational errors (AppError, or what
 * a module maps its library's errors to) get their status and `{error: {message, code,
 * details?}}`; anything else is a bug, answered with a bare 500 (no stack, no SQL, no internals)
 * and logged in full, at `error`, on the request's log line.
 *
 * @example app.use(errorHandler({ mappers: [databaseErrors] }))
 */
export function errorHandler(
  options: { mappers?: readonly ErrorMapper[] } = {},
): ErrorRequestHandler {
  const mappers = options.mappers ?? []
  const classify = (error: unknown): AppError | undefined => {
    if (error instanceof AppError) return error
    for (const map of mappers) {
      const mapped = map(error)
      if (mapped) return mapped
    }
    return fromHttpLayer(error) ?? fromNetwork(error)
  }
  return function errorHandlerMiddleware(error, _req, res, next) {
    if (res.headersSent) {
      next(error)
      return
    }
    const known = classify(error)
    if (!known) {
      // The request's log line (src/middleware/request-log.ts) is an `error` with its real stack.
      res.locals.error = error instanceof Error ? error : new Error(String(error))
      res.status(500).json({ error: { message: 'Internal server error', code: 'INTERNAL' } })
      return
    }
    // Expected failures are logged without a stack; a 5xx names its cause (never sent to clients).
    res.locals.failure = { code: known.code }
    if (known.status >= 500) res.locals.error = causeOf(error)
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
