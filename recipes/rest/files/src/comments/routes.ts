import { Router } from 'express'
import { z } from 'zod'
import { requireAuth } from '../auth/middleware.js'
import { listQuery } from '../lib/pagination.js'
import { validate } from '../middleware/validate.js'
import { idParams } from '../users/routes.js'
import type { CommentsService } from './service.js'

export const newComment = z.strictObject({ body: z.string().trim().min(1).max(5_000) })

/** /api/posts/:id/comments. Mounted at /api/posts. */
export function commentRoutes(comments: CommentsService): Router {
  const router = Router()

  router.get(
    '/:id/comments',
    validate({ params: idParams, query: listQuery }),
    async (req, res) => {
      res.json(await comments.list(req.params.id, req.query))
    },
  )

  router.post(
    '/:id/comments',
    requireAuth,
    validate({ params: idParams, body: newComment }),
    async (req, res) => {
      const comment = await comments.create(req.params.id, req.body.body, req.user as Express.User)
      res.status(201).json(comment)
    },
  )

  return router
}
