import { Router } from 'express'
import { z } from 'zod'
import { canModify } from '../auth/middleware.js'
import type { Auth } from '../auth/module.js'
import type { Db } from '../db/database.js'
import { ForbiddenError, NotFoundError } from '../lib/errors.js'
import { listQuery, paginate } from '../lib/pagination.js'
import { validate } from '../middleware/validate.js'
import { presentComment, presentPost } from '../rest/present.js'
import { idParams } from '../users/routes.js'

export const newPost = z.strictObject({
  title: z.string().trim().min(1).max(200),
  body: z.string().min(1).max(50_000),
})
export const postChanges = newPost
  .partial()
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one field' })
export const newComment = z.strictObject({ body: z.string().trim().min(1).max(5_000) })

const postColumns = [
  't.id',
  't.author_id',
  't.title',
  't.body',
  't.created_at',
  't.updated_at',
] as const

/** Posts of a user: GET (anyone), POST (that user, or an admin). Mounted at /api/users. */
export function userPostRoutes({ db, auth }: { db: Db; auth: Auth }): Router {
  const router = Router()

  router.get('/:id/posts', validate({ params: idParams, query: listQuery }), async (req, res) => {
    const author = await db.read
      .selectFrom('users')
      .select('id')
      .where('id', '=', req.params.id)
      .executeTakeFirst()
    if (!author) throw new NotFoundError('User not found')
    const query = db.read
      .selectFrom('posts as t')
      .select(postColumns)
      .where('t.author_id', '=', req.params.id)
    res.json(await paginate(query, req.query, presentPost))
  })

  router.post(
    '/:id/posts',
    auth.requireAuth,
    validate({ params: idParams, body: newPost }),
    async (req, res) => {
      if (!canModify(req.user, req.params.id))
        throw new ForbiddenError('You may only post as yourself')
      const author = await db.write
        .selectFrom('users')
        .select('id')
        .where('id', '=', req.params.id)
        .executeTakeFirst()
      if (!author) throw new NotFoundError('User not found')
      const post = await db.write
        .insertInto('posts')
        .values({ author_id: req.params.id, title: req.body.title, body: req.body.body })
        .returningAll()
        .executeTakeFirstOrThrow()
      res.status(201).location(`/api/posts/${post.id}`).json(presentPost(post))
    },
  )

  return router
}

/** /api/posts and their comments: read by anyone; changed by the author or an admin. */
export function postRoutes({ db, auth }: { db: Db; auth: Auth }): Router {
  const router = Router()

  router.get('/', validate({ query: listQuery }), async (req, res) => {
    res.json(
      await paginate(db.read.selectFrom('posts as t').select(postColumns), req.query, presentPost),
    )
  })

  router.get('/:id', validate({ params: idParams }), async (req, res) => {
    const post = await db.read
      .selectFrom('posts')
      .selectAll()
      .where('id', '=', req.params.id)
      .executeTakeFirst()
    if (!post) throw new NotFoundError('Post not found')
    res.json(presentPost(post))
  })

  /** Loads the post for a change, checking it exists and that the caller may change it. */
  const ownedPost = async (id: string, user: Express.Request['user']) => {
    const post = await db.write
      .selectFrom('posts')
      .select(['id', 'author_id'])
      .where('id', '=', id)
      .executeTakeFirst()
    if (!post) throw new NotFoundError('Post not found')
    if (!canModify(user, post.author_id))
      throw new ForbiddenError('Only its author or an admin may change a post')
    return post
  }

  router.patch(
    '/:id',
    auth.requireAuth,
    validate({ params: idParams, body: postChanges }),
    async (req, res) => {
      await ownedPost(req.params.id, req.user)
      const post = await db.write
        .updateTable('posts')
        .set({ ...req.body, updated_at: new Date() })
        .where('id', '=', req.params.id)
        .returningAll()
        .executeTakeFirstOrThrow()
      res.json(presentPost(post))
    },
  )

  router.delete('/:id', auth.requireAuth, validate({ params: idParams }), async (req, res) => {
    await ownedPost(req.params.id, req.user)
    await db.write.deleteFrom('posts').where('id', '=', req.params.id).execute()
    res.status(204).end()
  })

  router.get(
    '/:id/comments',
    validate({ params: idParams, query: listQuery }),
    async (req, res) => {
      const post = await db.read
        .selectFrom('posts')
        .select('id')
        .where('id', '=', req.params.id)
        .executeTakeFirst()
      if (!post) throw new NotFoundError('Post not found')
      const query = db.read
        .selectFrom('comments as t')
        .select(['t.id', 't.post_id', 't.author_id', 't.body', 't.created_at'])
        .where('t.post_id', '=', req.params.id)
      res.json(await paginate(query, req.query, presentComment))
    },
  )

  router.post(
    '/:id/comments',
    auth.requireAuth,
    validate({ params: idParams, body: newComment }),
    async (req, res) => {
      const post = await db.write
        .selectFrom('posts')
        .select('id')
        .where('id', '=', req.params.id)
        .executeTakeFirst()
      if (!post) throw new NotFoundError('Post not found')
      const comment = await db.write
        .insertInto('comments')
        .values({ post_id: post.id, author_id: req.user?.id as string, body: req.body.body })
        .returningAll()
        .executeTakeFirstOrThrow()
      res.status(201).json(presentComment(comment))
    },
  )

  return router
}
