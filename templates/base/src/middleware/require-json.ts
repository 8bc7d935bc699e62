import type { RequestHandler } from 'express'
import { UnsupportedMediaTypeError } from '../lib/errors.js'

/**
 * A request that carries a body must carry JSON: anything else is a 415, not a handler that
 * silently sees an empty body.
 *
 * @example app.use(requireJson())
 */
export function requireJson(): RequestHandler {
  return function requireJsonMiddleware(req, _res, next) {
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      Number(req.headers['content-length'] ?? 0) > 0
    if (hasBody && !req.is('application/json') && !req.is('application/*+json')) {
      next(new UnsupportedMediaTypeError('Send the request body as application/json'))
      return
    }
    next()
  }
}
