import type { Server } from 'node:http'
import cors from 'cors'
import express, { type Express } from 'express'
import helmet from 'helmet'
import type { Readiness } from './health/readiness.js'
import { healthOperations, healthRoutes } from './health/routes.js'
import { type ApiOperation, openApiDocument } from './lib/openapi.js'
import { rememberMount } from './lib/route.js'
import type { Drainable } from './lib/shutdown.js'
import { routeUpgrades } from './lib/upgrades.js'
import { errorHandler, notFound } from './middleware/error-handler.js'
import { requestId } from './middleware/request-id.js'
import { requestLog } from './middleware/request-log.js'
import { requireJson } from './middleware/require-json.js'
import type { AvailableServices, MiddlewareSlot } from './module.js'
import { type StartModulesOptions, startModules } from './runtime.js'

export interface App {
  express: Express
  readiness: Readiness
  services: AvailableServices
  /** Routes the modules' WebSocket upgrades on the server this app is served by. */
  attach(server: Server): void
  /** What must finish on shutdown besides the HTTP server (open WebSockets, …). */
  drain: Drainable[]
  /** Stops every module (pools, connections, workers), in reverse order of start. */
  stop(): Promise<void>
}

export type CreateAppOptions = Omit<StartModulesOptions, 'role'>

/** The HTTP app: the installed modules started for the server, behind the middleware chain. */
export async function createApp(options: CreateAppOptions): Promise<App> {
  const { config, conventions, logger } = options
  const runtime = await startModules({ ...options, role: 'server' })
  const { readiness, collect } = runtime
  const operations: ApiOperation[] = [...healthOperations, ...collect((m) => m.openapi)]
  const openapi = openApiDocument({ title: conventions.name, version: '1.0.0' }, operations)

  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', config.core.TRUST_PROXY)
  /** The middleware modules put in `slot`, mounted where this line stands in the chain. */
  const slot = (name: MiddlewareSlot) => {
    for (const m of collect((m) => m.middleware)) {
      if (m.slot !== name) continue
      if (m.path) app.use(m.path, m.handler)
      else app.use(m.handler)
    }
  }

  // The order is deliberate; each step says why it stands where it does.
  // 1. an id for every request first, so every later log line and error carries it;
  app.use(requestId())
  // 2. one log line per request, carrying its id (no headers, so no credentials): `info` for
  //    answers and expected failures, `warn` for an unavailable dependency, `error` for a bug;
  //    probes come every few seconds from every load balancer: they would drown the log;
  app.use(requestLog(logger, { ignore: (req) => req.path.startsWith('/health/') }))
  // 3. security headers and CORS, before anything can answer;
  app.use(
    helmet({
      // A JSON API renders no documents: forbid every source and any framing outright.
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      },
      // Headers for HTML pages in old browsers; meaningless on JSON, and each costs a little.
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
      originAgentCluster: false,
    }),
  )
  // With no allowed origin there is nothing for CORS to grant: browsers' same-origin policy holds.
  if (config.core.CORS_ORIGINS.length > 0) {
    app.use(cors({ origin: config.core.CORS_ORIGINS, credentials: true }))
  }
  // 4. probes and infrastructure endpoints: never refused by maintenance, limits or auth;
  app.use('/health', healthRoutes(readiness))
  slot('probes')
  // 5. maintenance mode refuses everything else, before anything costs;
  slot('maintenance')
  // 6. who is calling: req.user from a valid access token (never refuses; routes decide);
  slot('auth-context')
  // 7. rate limits: per user when signed in (hence after 6), else per IP; before a body is read;
  slot('rate-limit')
  // 8. what reads its own body (Engine.IO's long-polling, a signed webhook): before the parser;
  slot('raw-body')
  // 9. the body: JSON only, within the size limit (415 / 400 / 413 otherwise);
  app.use(requireJson())
  app.use(express.json({ limit: config.core.BODY_LIMIT }))
  // 10. HTTP caching (ETag, Cache-Control) just before the routes;
  slot('cache')
  // 11. the routes, and the OpenAPI document of every module's routes;
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi)
  })
  for (const { path, router } of collect((m) => m.routes)) app.use(path, rememberMount, router)
  // 12. a JSON 404, and the one error handler, last.
  app.use(notFound())
  app.use(
    errorHandler({
      mappers: collect((m) => (m.mapError ? [m.mapError] : [])),
    }),
  )

  const upgrades = collect((m) => m.upgrades)
  return {
    express: app,
    readiness,
    services: runtime.services,
    attach: (server) => routeUpgrades(server, upgrades),
    drain: runtime.drain,
    stop: runtime.stop,
  }
}
