import type { RequestHandler } from 'express'

/**
 * HTTP caching for reads: every GET answer carries an ETag (Express computes it from the body)
 * and a matching If-None-Match gets a 304 with no body. Clients revalidate every time
 * (`no-cache`), so a change shows at once. An answer to a request with credentials is `private`:
 * no shared cache stores it. Every answer varies by Authorization, so a cache never gives one
 * caller's answer to another; and an ETag is a hash of the body, so a caller whose answer differs
 * never gets a 304 for someone else's.
 *
 * @example app.use('/api', httpCaching())
 */
export function httpCaching(): RequestHandler {
  return function httpCachingMiddleware(req, res, next) {
    if (req.method === 'GET' || req.method === 'HEAD') {
      res.set('Cache-Control', req.headers.authorization ? 'private, no-cache' : 'public, no-cache')
      res.vary('Authorization')
    }
    next()
  }
}
