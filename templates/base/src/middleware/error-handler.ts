import type { ErrorRequestHandler, RequestHandler } from 'express'
import {
  AppError,
  BadRequestError,
  NotFoundError,
  PayloadTooLargeError,
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

/** The JSON 404 for a route nobody handles. */
export function notFound(): RequestHandler {
  return function notFoundMiddleware(req, _res, next) {
    next(new NotFoundError(`No route for ${req.method} ${req.path}`))
  }
}

/**
 * The one place errors become responses, registered last. Operational errors (AppError) get
 * their status and `{error: {message, code, details?}}`; anything else is logged with the
 * request id and answered with a bare 500: no stack, no SQL, no internals.
 */
export function errorHandler(): ErrorRequestHandler {
  return function errorHandlerMiddleware(error, req, res, next) {
    if (res.headersSent) {
      next(error)
      return
    }
    const known = error instanceof AppError ? error : fromBodyParser(error)
    if (!known) {
      req.log.error({ err: error }, 'unhandled error')
      res.status(500).json({ error: { message: 'Internal server error', code: 'INTERNAL' } })
      return
    }
    if (known.status >= 500) req.log.error({ err: error }, known.message)
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
