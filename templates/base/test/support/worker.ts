import { loadConventions } from '../../src/conventions.js'
import { requireService, type Services } from '../../src/module.js'
import { type Runtime, startModules } from '../../src/runtime.js'
import { type TestSetupOptions, testSetup } from './config.js'

export interface TestWorker {
  runtime: Runtime
  /** A service a module provided (fails the test when it is missing). */
  service<K extends keyof Services>(key: K): Services[K]
  /** The log lines written so far, parsed (only with `captureLogs`). */
  logs(): Record<string, unknown>[]
  /** Shuts down as src/worker.ts does on SIGTERM: drain (running jobs finish), then stop. */
  close(): Promise<void>
}

/**
 * The modules started for the worker role in this process, as `npm run worker` starts them
 * (without its signal handling): queue workers, schedulers and consumers run, and tests watch
 * what they do. Several can run side by side, like several worker processes.
 */
export async function startWorker(options: TestSetupOptions = {}): Promise<TestWorker> {
  const { modules, config, logger, logs } = testSetup(options)
  const runtime = await startModules({
    role: 'worker',
    config,
    conventions: loadConventions(),
    logger,
    modules,
  })
  let closing: Promise<void> | undefined
  return {
    runtime,
    service: (key) => requireService(runtime.services, key, 'test'),
    logs,
    close() {
      closing ??= (async () => {
        runtime.readiness.shuttingDown = true
        await Promise.all(runtime.drain.map((step) => step.drain()))
        await runtime.stop()
      })()
      return closing
    },
  }
}
