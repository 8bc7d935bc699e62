import { Router } from 'express'
import { z } from 'zod'
import { requireAuth, requireRole } from '../auth/middleware.js'
import { email, password, username } from '../auth/routes.js'
import { roles } from '../auth/schema.js'
import { listQuery } from '../lib/pagination.js'
import { validate } from '../middleware/validate.js'
import type { UsersService } from './service.js'

export const idParams = z.strictObject({ id: z.uuid() })
const role = z.enum(roles)
const currentPassword = z.string().max(128)
export const patchUser = z
  .strictObject({ email, username, password, role, currentPassword })
  .partial()
  .refine((body) => Object.keys(body).some((key) => key !== 'currentPassword'), {
    message: 'send at least one field to change',
  })
export const putUser = z.strictObject({
  email,
  username,
  role: role.optional(),
  currentPassword: currentPassword.optional(),
})

/** The caller, once requireAuth has run. */
const caller = (req: { user?: Express.User }) => req.user as Express.User

/** /api/users: read by any signed-in user; change yourself (or anyone, as admin); delete as admin. */
export function userRoutes(users: UsersService): Router {
  const router = Router()
  router.use(requireAuth)

  router.get('/', validate({ query: listQuery }), async (req, res) => {
    res.json(await users.list(req.query, caller(req)))
  })

  router.get('/:id', validate({ params: idParams }), async (req, res) => {
    res.json(await users.get(req.params.id, caller(req)))
  })

  router.patch('/:id', validate({ params: idParams, body: patchUser }), async (req, res) => {
    res.json(await users.update(req.params.id, req.body, caller(req)))
  })

  router.put('/:id', validate({ params: idParams, body: putUser }), async (req, res) => {
    res.json(await users.update(req.params.id, req.body, caller(req)))
  })

  router.delete('/:id', requireRole('admin'), validate({ params: idParams }), async (req, res) => {
    await users.remove(req.params.id, caller(req))
    res.status(204).end()
  })

  return router
}
