import { boot, failedToStart } from './boot.js'
import { handleGracefulShutdown } from './lib/shutdown.js'
import { startModules } from './runtime.js'

/**
 * The worker process (`npm run worker`): the same modules, configuration and logger as the
 * server, started for the `worker` role, so each module starts its background work here (queue
 * workers, schedulers, consumers) and no HTTP. On SIGTERM the work in flight finishes (up to
 * SHUTDOWN_TIMEOUT_MS), then workers, queues, channels, pools and Redis close in that order.
 */
async function main(): Promise<void> {
  const { config, conventions, modules, logger } = boot()
  const worker = await startModules({ role: 'worker', config, conventions, logger, modules })
  handleGracefulShutdown({
    logger,
    timeoutMs: config.core.SHUTDOWN_TIMEOUT_MS,
    onShutdownStart: () => {
      worker.readiness.shuttingDown = true
    },
    drain: worker.drain,
    stop: () => worker.stop(),
  })
  logger.info({ drains: worker.drain.length }, 'worker started')
}

main().catch(failedToStart)
