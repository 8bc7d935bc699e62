import { Router } from 'express'
import { z } from 'zod'
import { requireAuth } from '../auth/middleware.js'
import { type ApiOperation, errorResponses, pageOf } from '../lib/openapi.js'
import { listQuery } from '../lib/pagination.js'
import { validate } from '../middleware/validate.js'
import type { NotificationsService } from './service.js'

/** GET /api/notifications: the caller's own, newest first. Mounted at /api/notifications. */
export function notificationRoutes(notifications: NotificationsService): Router {
  const router = Router()
  router.use(requireAuth)
  router.get('/', validate({ query: listQuery }), async (req, res) => {
    const user = req.user as Express.User
    res.json(await notifications.list(user.id, req.query))
  })
  return router
}

const notification = z.object({
  id: z.uuid(),
  kind: z.enum(['comment']),
  postId: z.uuid(),
  commentId: z.uuid(),
  actorId: z.uuid().describe('who commented'),
  excerpt: z.string(),
  createdAt: z.iso.datetime(),
  readAt: z.iso.datetime().nullable(),
})

export const notificationOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/api/notifications',
    tag: 'notifications',
    auth: true,
    summary: "The caller's notifications, e.g. a comment on one of their posts",
    query: listQuery,
    responses: { 200: pageOf(notification), ...errorResponses(401, 422) },
  },
]
