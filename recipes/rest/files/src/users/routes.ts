import { type RequestHandler, Router } from 'express'
import { z } from 'zod'
import { canModify } from '../auth/middleware.js'
import type { Auth } from '../auth/module.js'
import { email, isUniqueViolation, password, username } from '../auth/routes.js'
import { publicUserColumns, roles } from '../auth/schema.js'
import type { Db } from '../db/database.js'
import { ConflictError, ForbiddenError, NotFoundError } from '../lib/errors.js'
import { listQuery, paginate } from '../lib/pagination.js'
import { validate } from '../middleware/validate.js'
import { presentUser } from '../rest/present.js'

export const idParams = z.strictObject({ id: z.uuid() })
const role = z.enum(roles)
export const patchUser = z
  .strictObject({ email, username, password, role })
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: 'send at least one field' })
export const putUser = z.strictObject({ email, username, role: role.optional() })
type UserChanges = z.infer<typeof patchUser>

/** /api/users: read for any signed-in user; change yourself (or anyone, as admin); delete as admin. */
export function userRoutes({ db, auth }: { db: Db; auth: Auth }): Router {
  const router = Router()
  router.use(auth.requireAuth)

  router.get('/', validate({ query: listQuery }), async (req, res) => {
    const query = db.read
      .selectFrom('users as t')
      .select(publicUserColumns.map((c) => `t.${c}` as const))
    res.json(await paginate(query, req.query, presentUser))
  })

  router.get('/:id', validate({ params: idParams }), async (req, res) => {
    const user = await db.read
      .selectFrom('users')
      .select(publicUserColumns)
      .where('id', '=', req.params.id)
      .executeTakeFirst()
    if (!user) throw new NotFoundError('User not found')
    res.json(presentUser(user))
  })

  /** PATCH (some fields) and PUT (the whole editable profile) share one update. */
  const updateUser: RequestHandler<{ id: string }, unknown, UserChanges> = async (req, res) => {
    const { id } = req.params
    if (!canModify(req.user, id)) throw new ForbiddenError('You may only change your own account')
    const { password: newPassword, role: newRole, ...fields } = req.body
    if (newRole !== undefined && req.user?.role !== 'admin') {
      throw new ForbiddenError('Only an admin may change roles')
    }
    try {
      const user = await db.write.transaction().execute(async (trx) => {
        const current = await trx
          .selectFrom('users')
          .select('role')
          .where('id', '=', id)
          .forUpdate()
          .executeTakeFirst()
        if (!current) throw new NotFoundError('User not found')
        const updated = await trx
          .updateTable('users')
          .set({
            ...fields,
            ...(newRole ? { role: newRole } : {}),
            ...(newPassword ? { password_hash: await auth.hashPassword(newPassword) } : {}),
            updated_at: new Date(),
          })
          .where('id', '=', id)
          .returning(publicUserColumns)
          .executeTakeFirstOrThrow()
        // A new password or role ends every session: old refresh tokens must not outlive it.
        if (newPassword || (newRole && newRole !== current.role)) {
          await auth.refreshTokens.revokeAllForUser(id, trx)
        }
        return updated
      })
      res.json(presentUser(user))
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError('That email or username is already taken')
      throw error
    }
  }

  router.patch('/:id', validate({ params: idParams, body: patchUser }), updateUser)
  router.put('/:id', validate({ params: idParams, body: putUser }), updateUser)

  router.delete(
    '/:id',
    auth.requireRole('admin'),
    validate({ params: idParams }),
    async (req, res) => {
      const deleted = await db.write
        .deleteFrom('users')
        .where('id', '=', req.params.id)
        .executeTakeFirst()
      if (deleted.numDeletedRows === 0n) throw new NotFoundError('User not found')
      res.status(204).end()
    },
  )

  return router
}
