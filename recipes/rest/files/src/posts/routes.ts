import { Router } from 'express'
import { z } from 'zod'
import { requireAuth } from '../auth/middleware.js'
import { listQuery } from '../lib/pagination.js'
import { validate } from '../middleware/validate.js'
import { idParams } from '../users/routes.js'
import type { PostsService } from './service.js'

export const newPost = z.strictObject({
  title: z.string().trim().min(1).max(200),
  body: z.string().min(1).max(50_000),
})
export const postChanges = newPost
  .partial()
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one field' })

const caller = (req: { user?: Express.User }) => req.user as Express.User

/** A user's posts: GET (anyone), POST (that user, or an admin). Mounted at /api/users. */
export function userPostRoutes(posts: PostsService): Router {
  const router = Router()

  router.get('/:id/posts', validate({ params: idParams, query: listQuery }), async (req, res) => {
    res.json(await posts.listByAuthor(req.params.id, req.query))
  })

  router.post(
    '/:id/posts',
    requireAuth,
    validate({ params: idParams, body: newPost }),
    async (req, res) => {
      const post = await posts.create(req.params.id, req.body, caller(req))
      res.status(201).location(`/api/posts/${post.id}`).json(post)
    },
  )

  return router
}

/** /api/posts: read by anyone; changed by the author or an admin. */
export function postRoutes(posts: PostsService): Router {
  const router = Router()

  router.get('/', validate({ query: listQuery }), async (req, res) => {
    res.json(await posts.list(req.query))
  })

  router.get('/:id', validate({ params: idParams }), async (req, res) => {
    res.json(await posts.get(req.params.id))
  })

  router.patch(
    '/:id',
    requireAuth,
    validate({ params: idParams, body: postChanges }),
    async (req, res) => {
      res.json(await posts.update(req.params.id, req.body, caller(req)))
    },
  )

  router.delete('/:id', requireAuth, validate({ params: idParams }), async (req, res) => {
    await posts.remove(req.params.id, caller(req))
    res.status(204).end()
  })

  return router
}
