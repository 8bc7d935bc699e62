import type { Request, RequestHandler, Response } from 'express'

/**
 * Remembers where the router a request entered is mounted (`app.use(path, rememberMount,
 * router)`). Express restores `req.baseUrl` when a request leaves a router, so an answer sent by
 * the error handler after a route failed (`next(error)`) would otherwise lose the mount path.
 */
export const rememberMount: RequestHandler = (req, res, next) => {
  res.locals.mountPath = req.baseUrl
  next()
}

/**
 * The template of the route that answered (`/api/posts/:id`), never the raw path: bounded
 * cardinality for metrics and log queries. Undefined when no route matched (a 404, or a refusal
 * before the routes: maintenance, a rate limit, a body the parser refused).
 */
export function routeTemplate(req: Request, res: Response): string | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path
  if (typeof path !== 'string') return undefined
  const mount = typeof res.locals.mountPath === 'string' ? res.locals.mountPath : req.baseUrl
  // A router's own root is its mount path (`/api/flags`, not `/api/flags/`), as in the OpenAPI document.
  if (path === '/' && mount) return mount
  return `${mount}${path}`
}
