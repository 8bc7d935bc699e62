import { type AppConfig, loadConfig } from '../../src/config.js'
import { createLogger, type Logger } from '../../src/lib/logger.js'
import type { AppModule } from '../../src/module.js'
import { modules as installedModules } from '../../src/modules.js'

export interface TestSetupOptions {
  /** Added to the environment (which tests set up with their own database, prefix, …). */
  env?: Record<string, string>
  /** The modules to start (default: every installed one). */
  modules?: readonly AppModule[]
  /** Keep the log lines (at LOG_LEVEL, default `info`) for `logs()`, instead of none. */
  captureLogs?: boolean
}

/**
 * The modules, configuration and logger a test starts an app or a worker with: the environment
 * plus `env` under NODE_ENV=test, silent unless it keeps the log lines.
 */
export function testSetup(options: TestSetupOptions = {}): {
  modules: readonly AppModule[]
  config: AppConfig
  logger: Logger
  /** The log lines written so far, parsed (only with `captureLogs`). */
  logs(): Record<string, unknown>[]
} {
  const modules = options.modules ?? installedModules
  const config = loadConfig(
    {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.LOG_LEVEL ?? (options.captureLogs ? 'info' : 'silent'),
      ...options.env,
    },
    modules,
  )
  const lines: string[] = []
  const logger = createLogger(
    config.core,
    options.captureLogs ? { write: (line: string) => void lines.push(line) } : undefined,
  )
  return {
    modules,
    config,
    logger,
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  }
}
