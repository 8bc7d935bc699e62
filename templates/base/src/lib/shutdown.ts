import type { Server } from 'node:http'
import type { Logger } from './logger.js'

export interface GracefulShutdownOptions {
  server: Server
  logger: Logger
  /** Runs first: flip readiness so load balancers stop sending traffic. */
  onShutdownStart(): void
  /** Runs once every in-flight request has finished: close pools, connections, workers. */
  stop(): Promise<void>
  timeoutMs: number
  exit?: (code: number) => void
  signals?: NodeJS.Signals[]
}

/**
 * On SIGTERM/SIGINT: readiness turns 503, the server stops accepting connections, idle
 * keep-alive sockets close, requests in flight finish (their sockets close after the response),
 * then the modules stop and the process exits 0. Past `timeoutMs`, or on a second signal, every
 * socket is cut and the process exits 1.
 */
export function handleGracefulShutdown(options: GracefulShutdownOptions): () => Promise<void> {
  const { server, logger, timeoutMs } = options
  const exit = options.exit ?? ((code: number) => process.exit(code))
  let shutdown: Promise<void> | undefined

  const begin = (signal: string): Promise<void> => {
    if (shutdown) {
      logger.warn({ signal }, 'second signal: exiting now')
      server.closeAllConnections()
      exit(1)
      return shutdown
    }
    logger.info({ signal }, 'shutting down')
    options.onShutdownStart()
    const force = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out: closing every connection')
      server.closeAllConnections()
      exit(1)
    }, timeoutMs)
    force.unref()
    // A keep-alive socket becomes idle once its response is sent: close those as they appear.
    const sweep = setInterval(() => server.closeIdleConnections(), 100)
    shutdown = new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeIdleConnections()
    })
      .then(() => {
        clearInterval(sweep)
        return options.stop()
      })
      .then(
        () => {
          clearTimeout(force)
          logger.info('shutdown complete')
          exit(0)
        },
        (error: unknown) => {
          clearTimeout(force)
          logger.error({ err: error }, 'shutdown failed')
          exit(1)
        },
      )
    return shutdown
  }

  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => void begin(signal))
  }
  return () => begin('manual')
}
