import { Router } from 'express'
import { z } from 'zod'
import type { ApiOperation } from '../lib/openapi.js'
import type { FlagStore } from './store.js'

/**
 * `GET /api/flags`: every flag, on or off for the caller (`req.user` when a valid token came,
 * else anonymous), so clients show what the service would do for them. Never stored by a cache:
 * a flag can change at any moment.
 */
export function flagRoutes(flags: FlagStore): Router {
  const router = Router()
  router.get('/', (req, res) => {
    res.set('Cache-Control', 'no-store').json({ flags: flags.evaluateAll(req.user) })
  })
  return router
}

export const flagOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/flags',
    tag: 'flags',
    summary: 'Every feature flag, on or off for the caller (signed in or not)',
    responses: { 200: z.object({ flags: z.record(z.string(), z.boolean()) }) },
  },
]
