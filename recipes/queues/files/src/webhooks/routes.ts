import { Router } from 'express'
import { z } from 'zod'
import { requireAuth, requireRole } from '../auth/middleware.js'
import { ConflictError } from '../lib/errors.js'
import { type ApiOperation, errorResponses } from '../lib/openapi.js'
import type { Webhooks } from './webhooks.js'

const accepted = z.object({ jobId: z.string() })

/**
 * POST /api/webhooks/test (admins): queues a `webhook.test` delivery and answers 202 with its
 * job id once the job is stored; 503 when it cannot be (Redis down), never a 202 for work that
 * was not taken; 409 when no WEBHOOK_URL is configured.
 */
export function webhookRoutes(webhooks: Webhooks | undefined): Router {
  const router = Router()
  router.post('/test', requireAuth, requireRole('admin'), async (req, res) => {
    if (!webhooks) {
      throw new ConflictError('No webhook is configured (WEBHOOK_URL)', {
        code: 'NO_WEBHOOK',
      })
    }
    const job = await webhooks.ping((req.user as Express.User).id)
    res.status(202).json({ jobId: job.id })
  })
  return router
}

export const webhookOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/api/webhooks/test',
    tag: 'webhooks',
    auth: true,
    summary: 'Queue a test delivery to WEBHOOK_URL (admin)',
    responses: { 202: accepted, ...errorResponses(401, 403, 409, 503) },
  },
]
