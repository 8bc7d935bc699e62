import type { RequestHandler, Router } from 'express'
import type { Logger } from 'pino'
import type { z } from 'zod'
import type { CoreConfig } from './config.js'

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
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging
export interface Services {}

/**
 * Where a module's middleware sits in the chain that src/app.ts builds:
 * - `before-parsing`: after request id, logging, helmet and CORS, before the body is read
 *   (maintenance mode, rate limits: cheap refusals first);
 * - `after-parsing`: after the JSON body is parsed, before the routes (caching, auth context).
 */
export type MiddlewareStage = 'before-parsing' | 'after-parsing'

/** A readiness check throws (or rejects) when its dependency cannot serve. */
export type ReadinessCheck = () => Promise<unknown>

export interface ModuleInstance {
  middleware?: { stage: MiddlewareStage; handler: RequestHandler }[]
  /** Routers mounted under their path, in module order, after the middleware. */
  routes?: { path: string; router: Router }[]
  /** Named checks for /health/ready. */
  readiness?: Record<string, ReadinessCheck>
  /** What this module offers the modules after it (see Services). */
  services?: Partial<Services>
  /** Called on shutdown, in reverse module order, after the server stopped taking requests. */
  stop?: () => Promise<void>
}

export interface ModuleContext<Env> {
  /** This module's own environment, parsed by its schema. */
  env: Env
  core: CoreConfig
  logger: Logger
  /** What the modules before this one provided. */
  services: Partial<Services>
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
  services: Partial<Services>,
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
