import type { AppConfig } from './config.js'
import type { Conventions } from './conventions.js'
import { Readiness } from './health/readiness.js'
import { loadThrough } from './lib/cache.js'
import { InProcessEventBus } from './lib/events.js'
import type { Logger } from './lib/logger.js'
import { noRateLimits } from './lib/rate-limits.js'
import type { Drainable } from './lib/shutdown.js'
import type { AppModule, AvailableServices, ModuleInstance, ProcessRole } from './module.js'

export interface StartModulesOptions {
  role: ProcessRole
  config: AppConfig
  conventions: Conventions
  logger: Logger
  modules: readonly AppModule[]
}

/** The installed modules, started for one process (the server or the worker). */
export interface Runtime {
  role: ProcessRole
  services: AvailableServices
  readiness: Readiness
  /** Every module's contributions of one kind, in module order. */
  collect<T>(pick: (instance: ModuleInstance) => readonly T[] | undefined): T[]
  /** What must finish before the process stops (queue workers, open WebSockets). */
  drain: Drainable[]
  /** Stops every module (pools, connections, workers), in reverse order of start. */
  stop(): Promise<void>
}

interface StartedModule {
  name: string
  instance: ModuleInstance
}

async function stopModules(started: readonly StartedModule[], logger: Logger): Promise<void> {
  for (const { name, instance } of [...started].reverse()) {
    try {
      await instance.stop?.()
    } catch (error) {
      logger.error({ err: error, module: name }, 'module failed to stop cleanly')
    }
  }
}

/**
 * Starts the modules in order, each seeing what the ones before it provided, on top of core's
 * services (a load-through cache, no rate limits, an in-process event bus). A module that fails
 * to start stops the ones started before it. Shared by src/server.ts and src/worker.ts.
 */
export async function startModules(options: StartModulesOptions): Promise<Runtime> {
  const { role, config, conventions, logger } = options
  const services: AvailableServices = {
    cache: loadThrough,
    limits: noRateLimits,
    events: new InProcessEventBus(logger.child({ module: 'events' })),
  }
  const started: StartedModule[] = []
  const collect = <T>(pick: (instance: ModuleInstance) => readonly T[] | undefined): T[] =>
    started.flatMap(({ instance }) => pick(instance) ?? [])
  try {
    for (const module of options.modules) {
      const instance = await module.init({
        env: config.modules.get(module.name),
        role,
        gauges: () => collect((m) => m.gauges),
        core: config.core,
        conventions,
        logger: logger.child({ module: module.name }),
        services,
      })
      Object.assign(services, instance.services)
      started.push({ name: module.name, instance })
    }
  } catch (error) {
    await stopModules(started, logger)
    throw error
  }
  const readiness = new Readiness(
    config.core.READINESS_TIMEOUT_MS,
    logger.child({ module: 'health' }),
  )
  for (const { name, instance } of started) {
    for (const [check, fn] of Object.entries(instance.readiness ?? {})) {
      readiness.add(check || name, fn)
    }
  }
  return {
    role,
    services,
    readiness,
    collect,
    drain: collect((m) => m.drain),
    stop: () => stopModules(started, logger),
  }
}
