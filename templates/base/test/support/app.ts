import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { type App, createApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { loadConventions } from '../../src/conventions.js'
import { createLogger } from '../../src/lib/logger.js'
import { type AppModule, requireService, type Services } from '../../src/module.js'
import { modules as installedModules } from '../../src/modules.js'

export interface TestApp {
  app: App
  url: string
  /** A service a module provided (fails the test when it is missing). */
  service<K extends keyof Services>(key: K): Services[K]
  /** The log lines written so far, parsed (only with `captureLogs`). */
  logs(): Record<string, unknown>[]
  close(): Promise<void>
}

export interface StartAppOptions {
  /** Added to the environment (which tests set up with their own database, prefix, …). */
  env?: Record<string, string>
  /** The modules to start (default: every installed one). */
  modules?: readonly AppModule[]
  /** Keep the log lines (at LOG_LEVEL, default `info`) for `logs()`, instead of none. */
  captureLogs?: boolean
}

/**
 * The real app (every installed module, or the ones given) on a free loopback port, configured
 * from the environment plus `env`. Tests talk to it over HTTP like any client.
 */
export async function startApp(options: StartAppOptions = {}): Promise<TestApp> {
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
  const app = await createApp({ config, conventions: loadConventions(), logger, modules })
  const server = app.express.listen(0, '127.0.0.1')
  await once(server, 'listening')
  app.attach(server)
  const { port } = server.address() as AddressInfo
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    service: (key) => requireService(app.services, key, 'test'),
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    async close() {
      // What the modules would drain on shutdown (open WebSockets) is cut, as a second signal
      // does: upgraded sockets are not the server's to close, and server.close() waits for them.
      for (const step of app.drain) step.abort()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await app.stop()
    },
  }
}

/** The error body every failure has. */
export interface ErrorBody {
  error: {
    message: string
    code: string
    details?: { path: string; message: string; code: string }[]
  }
}

/** A response's JSON body, typed by the caller (the test asserts its shape anyway). */
export async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T
}
