import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { boot, failedToStart } from './boot.js'
import { closeHealth, serveHealth } from './health/server.js'
import { describeListenError } from './lib/listen.js'
import { handleGracefulShutdown } from './lib/shutdown.js'
import { startModules } from './runtime.js'

/**
 * The worker process (`npm run worker`): the same modules, configuration and logger as the
 * server, started for the `worker` role, so each module starts its background work here (queue
 * workers, schedulers, consumers) and no API. Its probes, `/health/live` and `/health/ready`,
 * answer on WORKER_HEALTH_PORT (3001; none under NODE_ENV=test, or with 0). On SIGTERM readiness
 * turns 503, the work in flight finishes (up to SHUTDOWN_TIMEOUT_MS), then workers, queues,
 * channels, pools and Redis close in that order, and the probes last.
 */
async function main(): Promise<void> {
  const { config, conventions, modules, logger } = boot()
  const worker = await startModules({ role: 'worker', config, conventions, logger, modules })
  const { HOST: host, WORKER_HEALTH_PORT: port } = config.core
  let probes: Server | undefined
  if (port > 0) {
    try {
      probes = await serveHealth(worker.readiness, host, port)
    } catch (error) {
      logger.fatal(
        { err: error, host, port },
        describeListenError(error, host, port, 'WORKER_HEALTH_PORT'),
      )
      await worker.stop()
      process.exit(1)
    }
  }
  // The worker runs until it is told to stop, even while nothing holds the event loop open (no
  // probe port, a database still unreachable whose retry timer does not keep the process up).
  const keepAlive = setInterval(() => {}, 2 ** 30)
  handleGracefulShutdown({
    logger,
    timeoutMs: config.core.SHUTDOWN_TIMEOUT_MS,
    onShutdownStart: () => {
      worker.readiness.shuttingDown = true
    },
    drain: worker.drain,
    stop: async () => {
      await worker.stop()
      if (probes) await closeHealth(probes)
      clearInterval(keepAlive)
    },
  })
  const healthPort = probes ? (probes.address() as AddressInfo).port : undefined
  logger.info({ drains: worker.drain.length, healthPort }, 'worker started')
}

main().catch(failedToStart)
