import { randomUUID } from 'node:crypto'
import type { RequestHandler } from 'express'
import { requestContext } from '../lib/request-context.js'

declare global {
  namespace Express {
    interface Request {
      /** This request's id: the caller's X-Request-Id when well-formed, else a new UUID. */
      id: string
    }
  }
}

export interface RequestIdOptions {
  header?: string
}

const wellFormed = /^[\w.:-]{1,128}$/

/**
 * Gives every request an id, echoed in the response header and carried by every log line
 * written while it is served (src/lib/request-context.ts), so one request can be followed across
 * modules and services.
 *
 * @example app.use(requestId())
 */
export function requestId(options: RequestIdOptions = {}): RequestHandler {
  const header = (options.header ?? 'x-request-id').toLowerCase()
  return function requestIdMiddleware(req, res, next) {
    const incoming = req.headers[header]
    req.id = typeof incoming === 'string' && wellFormed.test(incoming) ? incoming : randomUUID()
    res.setHeader(header, req.id)
    requestContext.run({ requestId: req.id }, next)
  }
}
