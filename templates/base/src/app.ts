import cors from 'cors'
import express, { type Express } from 'express'
import helmet from 'helmet'
import { pinoHttp } from 'pino-http'
import type { AppConfig } from './config.js'
import { Readiness } from './health/readiness.js'
import { healthRoutes } from './health/routes.js'
import type { Logger } from './lib/logger.js'
import { errorHandler, notFound } from './middleware/error-handler.js'
import { requestId } from './middleware/request-id.js'
import { requireJson } from './middleware/require-json.js'
import type { AppModule, MiddlewareStage, ModuleInstance, Services } from './module.js'

export interface App {
  express: Express
  readiness: Readiness
  services: Partial<Services>
  /** Stops every module (pools, connections, workers), in reverse order of start. */
  stop(): Promise<void>
}

export interface CreateAppOptions {
  config: AppConfig
  logger: Logger
  modules: readonly AppModule[]
}

/** Starts the modules in order; each sees what the ones before it provided. */
async function initModules(options: CreateAppOptions, services: Partial<Services>) {
  const started: { name: string; instance: ModuleInstance }[] = []
  try {
    for (const module of options.modules) {
      const instance = await module.init({
        env: options.config.modules.get(module.name),
        core: options.config.core,
        logger: options.logger.child({ module: module.name }),
        services,
      })
      Object.assign(services, instance.services)
      started.push({ name: module.name, instance })
    }
  } catch (error) {
    await stopModules(started, options.logger)
    throw error
  }
  return started
}

async function stopModules(started: { name: string; instance: ModuleInstance }[], logger: Logger) {
  for (const { name, instance } of [...started].reverse()) {
    try {
      await instance.stop?.()
    } catch (error) {
      logger.error({ err: error, module: name }, 'module failed to stop cleanly')
    }
  }
}

export async function createApp(options: CreateAppOptions): Promise<App> {
  const { config, logger } = options
  const services: Partial<Services> = {}
  const started = await initModules(options, services)
  const readiness = new Readiness(config.core.READINESS_TIMEOUT_MS)
  for (const { name, instance } of started) {
    for (const [check, fn] of Object.entries(instance.readiness ?? {})) {
      readiness.add(check || name, fn)
    }
  }
  const stage = (which: MiddlewareStage) =>
    started.flatMap(({ instance }) =>
      (instance.middleware ?? []).filter((m) => m.stage === which).map((m) => m.handler),
    )

  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', config.core.TRUST_PROXY)
  // The order is deliberate:
  // 1. an id for every request first, so every later log line and error carries it;
  app.use(requestId())
  // 2. one log line per request, carrying its id (no headers, so no credentials);
  app.use(
    pinoHttp({
      logger,
      genReqId: (req) => (req as express.Request).id,
      // Probes come every few seconds from every load balancer: they would drown the log.
      autoLogging: { ignore: (req) => req.url?.startsWith('/health/') ?? false },
      // Lean lines: headers stay out of the log (they cost time and can carry secrets).
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  )
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
  // 4. probes: answered before maintenance mode, rate limits or auth can refuse them;
  app.use('/health', healthRoutes(readiness))
  // 5. modules that refuse cheaply (maintenance, rate limits) before a body is read;
  for (const handler of stage('before-parsing')) app.use(handler)
  // 6. the body: JSON only, within the size limit (415 / 400 / 413 otherwise);
  app.use(requireJson())
  app.use(express.json({ limit: config.core.BODY_LIMIT }))
  // 7. modules that work on parsed requests (caching, auth context), then the routes;
  for (const handler of stage('after-parsing')) app.use(handler)
  for (const { instance } of started) {
    for (const { path, router } of instance.routes ?? []) app.use(path, router)
  }
  // 8. a JSON 404, and the one error handler, last.
  app.use(notFound())
  app.use(errorHandler())

  return {
    express: app,
    readiness,
    services,
    stop: () => stopModules(started, logger),
  }
}
