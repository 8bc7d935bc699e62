import { Router } from 'express'
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
