import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from './app.js'
import { boot, failedToStart } from './boot.js'
import { describeListenError, listen } from './lib/listen.js'
import { drainHttpServer, handleGracefulShutdown } from './lib/shutdown.js'

async function main(): Promise<void> {
  const { config, conventions, logger, modules } = boot()
  const app = await createApp({ config, conventions, logger, modules })
  const { HOST: host, PORT: port } = config.core
  let server: Server
  try {
    server = await listen(app.express, host, port)
  } catch (error) {
    logger.fatal({ err: error, host, port }, describeListenError(error, host, port))
    await app.stop()
    process.exit(1)
  }
  // Longer than a load balancer's idle timeout, so it never reuses a socket we just closed.
  server.keepAliveTimeout = 65_000
  app.attach(server)
  const shutDown = handleGracefulShutdown({
    logger,
    timeoutMs: config.core.SHUTDOWN_TIMEOUT_MS,
    onShutdownStart: () => {
      app.readiness.shuttingDown = true
    },
    drain: [
      drainHttpServer(server, { delayMs: config.core.SHUTDOWN_DELAY_MS, logger }),
      ...app.drain,
    ],
    stop: () => app.stop(),
  })
  server.on('error', (error) => {
    logger.fatal({ err: error }, 'server error')
    void shutDown('server error', 1)
  })
  // Last, so that whoever acts on this line (a supervisor, a test) finds the signals handled.
  logger.info({ host, port: (server.address() as AddressInfo).port }, 'listening')
}

main().catch(failedToStart)
