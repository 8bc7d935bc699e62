import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { z } from 'zod'
import { defineModule, type ModuleMiddleware } from '../module.js'
import { answerMetrics, metricsRoute, observeRequests } from './http.js'
import { Metrics } from './metrics.js'

export const observabilityEnv = z.object({
  METRICS_PORT: z
    .union([z.literal('').transform(() => undefined), z.coerce.number().int().min(0).max(65_535)])
    .optional(),
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  METRICS_TOKEN: z
    .union([
      z.literal('').transform(() => undefined),
      z.string().min(16, 'must be at least 16 characters'),
    ])
    .optional(),
})

/**
 * Default ports: Prometheus exporters' 9464 for the server, the next one for the worker; none
 * under NODE_ENV=test, where many apps start on one machine.
 */
const defaultPort = { server: 9464, worker: 9465 } as const

/** The metrics port: GET /metrics, nothing else. Undefined when the port cannot be had. */
async function listen(
  metrics: Metrics,
  token: string | undefined,
  port: number,
  host: string,
): Promise<http.Server | undefined> {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      void answerMetrics(metrics, token, req, res)
      return
    }
    res.writeHead(404).end()
  })
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined))
    server.listen(port, host, () => resolve(server))
  })
}

/**
 * Prometheus metrics: request latency by route template, requests in flight, Node's defaults and
 * every module's gauges (the database's pool, the queues' depth, …). They are not public: served
 * on a port of their own (METRICS_PORT; the worker has its own), and on the API port only behind
 * METRICS_TOKEN.
 */
export const observability = defineModule({
  name: 'observability',
  env: observabilityEnv,
  async init({ env, core, role, gauges, logger }) {
    const metrics = new Metrics(gauges)
    const token = env.METRICS_TOKEN
    const port = env.METRICS_PORT ?? (core.NODE_ENV === 'test' ? 0 : defaultPort[role])
    const server = port > 0 ? await listen(metrics, token, port, env.METRICS_HOST) : undefined
    if (server) logger.info({ port: (server.address() as AddressInfo).port }, 'metrics listening')
    else if (port > 0) {
      // A side port must not take the service down (two instances on one machine in
      // development): say so loudly, serve on.
      logger.error({ port }, 'metrics port unavailable: metrics are not served on it')
    }
    const middleware: ModuleMiddleware[] = []
    if (role === 'server') {
      middleware.push({ slot: 'probes', handler: observeRequests(metrics) })
      if (token)
        middleware.push({ slot: 'probes', path: '/metrics', handler: metricsRoute(metrics, token) })
    }
    return {
      services: { metrics },
      middleware,
      stop: async () => {
        if (!server) return
        server.closeAllConnections()
        await new Promise((resolve) => server?.close(resolve))
      },
    }
  },
})

declare module '../module.js' {
  interface Services {
    metrics: Metrics
  }
}
