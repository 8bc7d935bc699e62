import { type AppConfig, ConfigError, loadConfig } from './config.js'
import { type Conventions, loadConventions } from './conventions.js'
import { createLogger, type Logger } from './lib/logger.js'
import type { AppModule } from './module.js'
import { modules } from './modules.js'

export interface Boot {
  config: AppConfig
  conventions: Conventions
  logger: Logger
  modules: readonly AppModule[]
}

/**
 * What both entry points (src/server.ts, src/worker.ts) start from: the configuration, validated
 * with every installed module's variables (a bad one stops the start, naming each), the logger,
 * and backendkit.json.
 */
export function boot(): Boot {
  const config = loadConfig(process.env, modules)
  return {
    config,
    conventions: loadConventions(),
    logger: createLogger(config.core),
    modules,
  }
}

/** How a process that could not start ends: the configuration's problems, or the error. */
export function failedToStart(error: unknown): never {
  if (error instanceof ConfigError) console.error(error.message)
  else console.error('failed to start:', error)
  process.exit(1)
}
