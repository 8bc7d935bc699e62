import { Router } from 'express'
import { z } from 'zod'
import type { ApiOperation } from '../lib/openapi.js'
import type { Readiness } from './readiness.js'

/**
 * `/health/live`: the process can serve (no I/O, so a slow database never gets it restarted).
 * `/health/ready`: every dependency answers; 503 with each check's status otherwise, and from
 * the moment shutdown begins.
 */
export function healthRoutes(readiness: Readiness): Router {
  const router = Router()
  router.get('/live', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' })
  })
  router.get('/ready', async (_req, res) => {
    const report = await readiness.report()
    res
      .status(report.status === 'ok' ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json(report)
  })
  return router
}

const check = z.object({ status: z.enum(['up', 'down']), latencyMs: z.int() })
const report = z.object({
  status: z.enum(['ok', 'unavailable', 'shutting-down']),
  checks: z.record(z.string(), check),
})

export const healthOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/health/live',
    tag: 'health',
    summary: 'Liveness: the process can serve',
    responses: { 200: z.object({ status: z.literal('ok') }) },
  },
  {
    method: 'get',
    path: '/health/ready',
    tag: 'health',
    summary: 'Readiness: every dependency answers',
    responses: { 200: report, 503: report },
  },
]
