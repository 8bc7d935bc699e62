import { createApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { createLogger } from './lib/logger.js'
import { drainHttpServer, handleGracefulShutdown } from './lib/shutdown.js'
import { modules } from './modules.js'

async function main(): Promise<void> {
  const config = loadConfig(process.env, modules)
  const logger = createLogger(config.core)
  const app = await createApp({ config, logger, modules })
  const server = app.express.listen(config.core.PORT, config.core.HOST, () => {
    logger.info({ host: config.core.HOST, port: config.core.PORT }, 'listening')
  })
  server.on('error', (error) => {
    logger.fatal({ err: error }, 'server error')
    process.exit(1)
  })
  // Longer than a load balancer's idle timeout, so it never reuses a socket we just closed.
  server.keepAliveTimeout = 65_000
  handleGracefulShutdown({
    logger,
    timeoutMs: config.core.SHUTDOWN_TIMEOUT_MS,
    onShutdownStart: () => {
      app.readiness.shuttingDown = true
    },
    drain: [drainHttpServer(server, { delayMs: config.core.SHUTDOWN_DELAY_MS, logger })],
    stop: () => app.stop(),
  })
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message)
  } else {
    console.error('failed to start:', error)
  }
  process.exit(1)
})
