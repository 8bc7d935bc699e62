import { EventEmitter, once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { type App, createApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { loadConventions } from '../../src/conventions.js'
import { createLogger } from '../../src/lib/logger.js'
import { drainHttpServer, handleGracefulShutdown } from '../../src/lib/shutdown.js'
import type { AppModule } from '../../src/module.js'

export interface ServedApp {
  app: App
  url: string
  port: number
  /** Delivers a signal to this app's shutdown, as the process would receive it. */
  signal(name: NodeJS.Signals): void
  /** The code the shutdown exited with. */
  exited: Promise<number>
  /** For a test's clean-up: shuts down at once (two signals) if the test did not. */
  close(): Promise<void>
}

/**
 * The real app served the way src/server.ts serves it (createApp, listen, the HTTP drain, the
 * graceful shutdown), on a free loopback port. Signals come from an emitter of the test's own and
 * the exit code is recorded, so a shutdown runs in full without ending the test process.
 */
export async function serveApp(options: {
  modules: readonly AppModule[]
  env?: Record<string, string>
}): Promise<ServedApp> {
  const config = loadConfig(
    { NODE_ENV: 'test', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', ...options.env },
    options.modules,
  )
  const logger = createLogger(config.core)
  const app = await createApp({
    config,
    conventions: loadConventions(),
    logger,
    modules: options.modules,
  })
  const server = app.express.listen(0, '127.0.0.1')
  await once(server, 'listening')
  app.attach(server)
  const events = new EventEmitter()
  let exit: (code: number) => void = () => {}
  const exited = new Promise<number>((resolve) => {
    exit = resolve
  })
  handleGracefulShutdown({
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
    events,
    exit,
  })
  const { port } = server.address() as AddressInfo
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    port,
    signal: (name) => events.emit(name),
    exited,
    async close() {
      events.emit('SIGTERM')
      events.emit('SIGTERM')
      await exited
    },
  }
}
