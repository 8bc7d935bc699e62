import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { type App, createApp } from '../../src/app.js'
import { loadConventions } from '../../src/conventions.js'
import { requireService, type Services } from '../../src/module.js'
import { type TestSetupOptions, testSetup } from './config.js'

export interface TestApp {
  app: App
  url: string
  /** A service a module provided (fails the test when it is missing). */
  service<K extends keyof Services>(key: K): Services[K]
  /** The log lines written so far, parsed (only with `captureLogs`). */
  logs(): Record<string, unknown>[]
  close(): Promise<void>
}

export type StartAppOptions = TestSetupOptions

/**
 * The real app (every installed module, or the ones given) on a free loopback port, configured
 * from the environment plus `env`. Tests talk to it over HTTP like any client.
 */
export async function startApp(options: StartAppOptions = {}): Promise<TestApp> {
  const { modules, config, logger, logs } = testSetup(options)
  const app = await createApp({ config, conventions: loadConventions(), logger, modules })
  const server = app.express.listen(0, '127.0.0.1')
  await once(server, 'listening')
  app.attach(server)
  const { port } = server.address() as AddressInfo
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    service: (key) => requireService(app.services, key, 'test'),
    logs,
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
