import type { Server } from 'node:http'
import express from 'express'
import { listen } from '../lib/listen.js'
import type { Readiness } from './readiness.js'
import { healthRoutes } from './routes.js'

/**
 * The worker's probes on a port of their own (WORKER_HEALTH_PORT): the same `/health/live` and
 * `/health/ready` as the server's, so an orchestrator restarts a stuck worker and sees when its
 * dependencies are down, and nothing else (no API, no body parsing).
 */
export function serveHealth(readiness: Readiness, host: string, port: number): Promise<Server> {
  const app = express()
  app.disable('x-powered-by')
  app.use('/health', healthRoutes(readiness))
  app.use((_req, res) => {
    res.status(404).json({ error: { message: 'Not found', code: 'NOT_FOUND' } })
  })
  return listen(app, host, port)
}

/** Closes the probe server, connections included: the process is about to exit. */
export function closeHealth(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}
