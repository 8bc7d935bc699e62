import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { RequestHandler, Router } from 'express'
import type { Logger } from 'pino'
import type { z } from 'zod'
import type { CoreConfig } from './config.js'
import type { Conventions } from './conventions.js'
import type { Cache } from './lib/cache.js'
import type { AppError } from './lib/errors.js'
import type { EventBus } from './lib/events.js'
import type { ApiOperation } from './lib/openapi.js'
import type { RateLimits } from './lib/rate-limits.js'
import type { Drainable } from './lib/shutdown.js'

/**
 * What every module can use whatever else is installed. Core provides a working default for each
 * (a cache that always loads, no rate limits, an in-process event bus) and a recipe replaces it
 * with the real thing by providing the same key (the cache recipe's Redis cache), so a module
 * that caches, limits or emits typechecks and runs with or without those recipes.
 */
export interface CoreServices {
  cache: Cache
  limits: RateLimits
  events: EventBus
}

/**
 * What modules share with each other: each module that provides something declares it here by
 * declaration merging, next to its own code, e.g.
 *
 * ```ts
 * declare module '../module.js' {
 *   interface Services { db: Database }
 * }
 * ```
 */
export interface Services extends CoreServices {}

/** What a module sees at start: core's services and whatever the modules before it provided. */
export type AvailableServices = CoreServices & Partial<Services>

/**
 * Where module middleware runs. The chain in src/app.ts reads top to bottom, and each slot sits
 * at one place in it:
 * - `probes`: endpoints for infrastructure (metrics) that maintenance and limits never refuse;
 * - `maintenance`: refuses everything during `backendkit down`, before anything costs;
 * - `auth-context`: sets `req.user` from a valid access token, never refuses;
 * - `rate-limit`: per user when signed in (so after auth-context), else per client IP;
 * - `raw-body`: handlers that read the request body themselves, so before the JSON body parser
 *   and its 415 for anything else: Engine.IO's long-polling (text/plain), a webhook that checks a
 *   signature over the raw bytes;
 * - `cache`: HTTP caching of parsed, authorised requests, just before the routes.
 */
export type MiddlewareSlot =
  | 'probes'
  | 'maintenance'
  | 'auth-context'
  | 'rate-limit'
  | 'raw-body'
  | 'cache'

export interface ModuleMiddleware {
  slot: MiddlewareSlot
  handler: RequestHandler
  /** Only requests under this path (default: every request). */
  path?: string
}

/** A readiness check throws (or rejects) when its dependency cannot serve. */
export type ReadinessCheck = () => Promise<unknown>

/**
 * An HTTP upgrade (WebSocket) handler for one path. The server routes every upgrade by its path
 * to the module that asked for it; an upgrade nobody handles is refused with a 404.
 */
export interface UpgradeHandler {
  /** The request path, e.g. `/ws` (a prefix match: `/socket.io` takes `/socket.io/?…`). */
  path: string
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void
}

/** A gauge a module reports, e.g. a pool's idle connections or a queue's waiting jobs. */
export interface GaugeSource {
  /** Prometheus naming: `db_pool_connections`, with units in the name when there are any. */
  name: string
  help: string
  labelNames?: readonly string[]
  collect(): Promise<readonly GaugeValue[]> | readonly GaugeValue[]
}

export interface GaugeValue {
  labels?: Record<string, string>
  value: number
}

/** Which process the modules start in: the HTTP server, or the worker (`npm run worker`). */
export type ProcessRole = 'server' | 'worker'

/**
 * Turns an error of this module's libraries into the answer a client should get (a database that
 * cannot be reached → 503), or returns undefined for errors it does not know.
 */
export type ErrorMapper = (error: unknown) => AppError | undefined

export interface ModuleInstance {
  middleware?: ModuleMiddleware[]
  /** Routers mounted under their path, in module order, after the middleware. */
  routes?: { path: string; router: Router }[]
  /** WebSocket upgrades this module answers (the server routes them by path). */
  upgrades?: UpgradeHandler[]
  /** The operations of those routes, for GET /openapi.json. */
  openapi?: ApiOperation[]
  mapError?: ErrorMapper
  /** Named checks for /health/ready. */
  readiness?: Record<string, ReadinessCheck>
  /** What this module offers the modules after it (see Services). */
  services?: Partial<Services>
  /** Gauges for the metrics endpoint (the observability recipe exposes them). */
  gauges?: GaugeSource[]
  /**
   * Work that must finish before the process stops: queue workers (running jobs complete), open
   * WebSockets (closed with 1001). Drained on shutdown together with the HTTP server, after
   * readiness turned 503 and before any module stops.
   */
  drain?: Drainable[]
  /** Called on shutdown, in reverse module order, once everything is drained. */
  stop?: () => Promise<void>
}

export interface ModuleContext<Env> {
  /** This module's own environment, parsed by its schema. */
  env: Env
  /** The server starts what answers requests; the worker what works in the background. */
  role: ProcessRole
  /** Every module's gauges, for a metrics endpoint; call it when collecting (all have started). */
  gauges(): GaugeSource[]
  core: CoreConfig
  /** backendkit.json: names and prefixes this service shares with the backendkit CLI. */
  conventions: Conventions
  logger: Logger
  services: AvailableServices
}

export interface ModuleDefinition<Env> {
  name: string
  /** The variables this module reads; validated with every other module's at start. */
  env: z.ZodType<Env>
  init(context: ModuleContext<Env>): Promise<ModuleInstance> | ModuleInstance
}

/** A module as the app sees it: its environment was parsed by its own schema. */
export type AppModule = ModuleDefinition<unknown>

/** Declares a module; its `env` schema types what `init` receives. */
export function defineModule<Env>(definition: ModuleDefinition<Env>): AppModule {
  return definition as AppModule
}

/** Reads a service a module needs from those provided before it, or fails loudly at start. */
export function requireService<K extends keyof Services>(
  services: AvailableServices,
  key: K,
  by: string,
): Services[K] {
  const service = services[key]
  if (service === undefined) {
    throw new Error(
      `module "${by}" needs the "${String(key)}" service; add the module that provides it first`,
    )
  }
  return service as Services[K]
}
