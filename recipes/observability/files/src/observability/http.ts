import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Request, RequestHandler, Response } from 'express'
import { routeTemplate } from '../lib/route.js'
import type { Metrics } from './metrics.js'

const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/** The route template, `(unmatched)` when no route answered (a 404, a refusal before them). */
const routeOf = (req: Request, res: Response): string => routeTemplate(req, res) ?? '(unmatched)'

/**
 * Times every request and counts those in flight (`http_request_duration_seconds`,
 * `http_requests_in_flight`). Labels stay bounded: the route template, a known method or OTHER,
 * the status code.
 *
 * @example app.use(observeRequests(metrics))
 */
export function observeRequests(metrics: Metrics): RequestHandler {
  return function observeRequestsMiddleware(req, res, next) {
    const started = process.hrtime.bigint()
    metrics.requestsInFlight.inc()
    res.once('close', () => {
      metrics.requestsInFlight.dec()
      metrics.requestDuration.observe(
        {
          method: knownMethods.has(req.method) ? req.method : 'OTHER',
          route: routeOf(req, res),
          status_code: String(res.statusCode),
        },
        Number(process.hrtime.bigint() - started) / 1e9,
      )
    })
    next()
  }
}

/** Whether the request carries `Authorization: Bearer <token>` (compared in constant time). */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const given = Buffer.from(req.headers.authorization ?? '')
  const expected = Buffer.from(`Bearer ${token}`)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/**
 * Answers GET /metrics with the exposition: on the metrics port (a server of its own), and on
 * the API port only behind the token. Without the token it is a 401, never the metrics.
 */
export async function answerMetrics(
  metrics: Metrics,
  token: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (token && !hasToken(req, token)) {
    res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer' })
    res.end(JSON.stringify({ error: { message: 'Authentication required', code: 'UNAUTHORIZED' } }))
    return
  }
  const body = await metrics.scrape()
  res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' })
  res.end(body)
}

/**
 * GET /metrics on the API port, behind the token (mount it at /metrics).
 *
 * @example app.use('/metrics', metricsRoute(metrics, process.env.METRICS_TOKEN))
 */
export function metricsRoute(metrics: Metrics, token: string): RequestHandler {
  return function metricsRouteMiddleware(req, res, next) {
    if (req.method !== 'GET' || req.path !== '/') {
      next()
      return
    }
    answerMetrics(metrics, token, req, res).catch(next)
  }
}
