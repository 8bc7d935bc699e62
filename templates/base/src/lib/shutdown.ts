import type { EventEmitter } from 'node:events'
import type { Server, ServerResponse } from 'node:http'
import type { Logger } from './logger.js'

/** Something that takes work and must finish what it took: an HTTP server, a queue worker. */
export interface Drainable {
  /** Stop taking new work and resolve once the work in flight has finished. */
  drain(): Promise<void>
  /** Past the deadline (or on a second signal): cut whatever is still in flight. */
  abort(): void
}

export interface GracefulShutdownOptions {
  logger: Logger
  /** Runs first, at once: flip readiness so load balancers stop sending traffic. */
  onShutdownStart?(): void
  /** Drained together, after `onShutdownStart`: nothing new is taken, work in flight finishes. */
  drain: readonly Drainable[]
  /** Runs once everything is drained: close pools, connections, workers. */
  stop(): Promise<void>
  /** The whole shutdown, from the signal to the exit, may take this long. */
  timeoutMs: number
  exit?: (code: number) => void
  signals?: readonly NodeJS.Signals[]
  /** Where signals and crashes are heard: `process`, or an emitter of a test's own. */
  events?: EventEmitter
}

/** Starts the shutdown, or joins the one under way (its exit code rises to `exitCode`). */
export type ShutDown = (reason: string, exitCode?: 0 | 1) => Promise<void>

/**
 * The one way this process ends, whatever ends it: SIGTERM/SIGINT, an unhandled rejection, an
 * uncaught exception. In order:
 *
 * 1. `onShutdownStart` (readiness answers 503), so the load balancer stops sending first;
 * 2. every `drain` step: nothing new is taken, work in flight finishes (for an HTTP server, see
 *    {@link drainHttpServer}: it keeps serving for a delay, then stops accepting);
 * 3. `stop`: modules close their pools and connections, which nothing is using any more;
 * 4. exit 0, or 1 when a crash started the shutdown or `stop` failed.
 *
 * Past `timeoutMs`, or on a second signal (a second Ctrl-C), what is in flight is cut and the
 * process exits 1: a shutdown never hangs. A crash is logged as fatal, with its stack, and then
 * goes the same graceful way rather than exiting at once: the other requests in flight are
 * usually unharmed and get their answers, but a process whose state can no longer be trusted
 * stops taking new ones.
 *
 * Nothing here is HTTP: a worker process passes its workers as `drain` and no server.
 */
export function handleGracefulShutdown(options: GracefulShutdownOptions): ShutDown {
  const { logger, timeoutMs } = options
  const events = options.events ?? process
  const exitProcess = options.exit ?? ((code: number) => process.exit(code))
  let exited = false
  const exit = (code: number) => {
    if (exited) return
    exited = true
    exitProcess(code)
  }
  let running: Promise<void> | undefined
  let exitCode = 0

  const abort = () => {
    for (const step of options.drain) step.abort()
  }

  const run = async (): Promise<void> => {
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out: cutting what is still in flight')
      abort()
      exit(1)
    }, timeoutMs)
    deadline.unref()
    try {
      options.onShutdownStart?.()
      await Promise.all(options.drain.map((step) => step.drain()))
      await options.stop()
      logger.info({ exitCode }, 'shutdown complete')
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed')
      exitCode = 1
    } finally {
      clearTimeout(deadline)
    }
    exit(exitCode)
  }

  const shutDown: ShutDown = (reason, code = 0) => {
    if (code > exitCode) exitCode = code
    if (running) return running
    logger.info({ reason }, 'shutting down')
    running = run()
    return running
  }

  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) {
    events.on(signal, () => {
      if (!running) return void shutDown(signal)
      logger.warn({ signal }, 'second signal: exiting now')
      abort()
      exit(1)
    })
  }
  events.on('unhandledRejection', (reason: unknown) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection')
    void shutDown('unhandledRejection', 1)
  })
  events.on('uncaughtException', (error: Error, origin: string) => {
    logger.fatal({ err: error, origin }, 'uncaught exception')
    void shutDown('uncaughtException', 1)
  })
  return shutDown
}

export interface HttpDrainOptions {
  /**
   * How long the server keeps serving after shutdown begins, while readiness answers 503: the
   * time the load balancer takes to stop sending (on Kubernetes, the endpoint removal reaching
   * kube-proxy and the ingress; for a balancer that polls readiness, interval × threshold).
   */
  delayMs: number
  logger: Logger
}

/**
 * The HTTP server as a {@link Drainable}. Create it right after `listen`: it follows every
 * response from then on, so it can mark the ones in flight when the drain begins.
 *
 * While draining, every response that has not started yet carries `Connection: close`, so the
 * client does not reuse its socket and Node ends the socket after the response: each busy
 * connection closes between two requests, with the client's agreement. No socket is destroyed
 * during the delay. After `delayMs` the port closes: Node's `server.close()` then destroys the
 * idle sockets, which in Node 24 means sockets whose parser is between two messages and which
 * owe no response; a socket where a request has begun to arrive, or a request waits for its
 * response, is left alone. The one race left is a request still on the wire towards a socket
 * that is idle at that instant, which would be reset; by then readiness has answered 503 for the
 * whole delay and every socket that carried a request during it was closed by the exchange above,
 * so the sockets destroyed are ones the load balancer no longer uses. Responses still running
 * finish; a socket that goes idle after that (its response was already being sent, keep-alive,
 * when the drain began) is closed as soon as it is idle. The drain resolves when every
 * connection has closed.
 */
export function drainHttpServer(server: Server, options: HttpDrainOptions): Drainable {
  const { delayMs, logger } = options
  const inFlight = new Set<ServerResponse>()
  let draining = false

  const closeAfterResponse = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close')
  }
  // Prepended, so it runs before the app's own listener, which may answer synchronously.
  server.prependListener('request', (_req, res) => {
    if (draining) return closeAfterResponse(res)
    inFlight.add(res)
    res.once('close', () => inFlight.delete(res))
  })

  return {
    async drain() {
      draining = true
      for (const res of inFlight) closeAfterResponse(res)
      inFlight.clear()
      if (delayMs > 0) {
        logger.info({ delayMs }, 'readiness is 503; serving on until the load balancer has noticed')
        await new Promise((resolve) => setTimeout(resolve, delayMs))
      }
      logger.info('no longer accepting connections; waiting for the requests in flight')
      const sweep = setInterval(() => server.closeIdleConnections(), 100)
      try {
        await new Promise<void>((resolve, reject) =>
          server.close((error) => (error ? reject(error) : resolve())),
        )
      } finally {
        clearInterval(sweep)
      }
    },
    abort() {
      server.closeAllConnections()
    },
  }
}
