import { Router } from 'express'
import { z } from 'zod'
import { requireAuth } from '../auth/middleware.js'
import { listQuery } from '../lib/pagination.js'
import { validate } from '../middleware/validate.js'
import { MAX_AMOUNT } from './account.js'
import type { LedgerService } from './service.js'

export const accountParams = z.strictObject({ id: z.uuid() })
/** Integer cents: 1050 is 10.50. A fraction, a string, zero or a negative amount is a 422. */
export const movement = z.strictObject({ amount: z.int().min(1).max(MAX_AMOUNT) })
export const openAccount = z.strictObject({})

/** The caller, once requireAuth has run. */
const caller = (req: { user?: Express.User }) => req.user as Express.User

/** /api/accounts: the ledger. Every route needs a token; an account is its owner's (or an admin's). */
export function accountRoutes(ledger: LedgerService): Router {
  const router = Router()
  router.use(requireAuth)

  router.post('/', validate({ body: openAccount }), async (req, res) => {
    const account = await ledger.open(caller(req))
    res.status(201).location(`/api/accounts/${account.id}`).json(account)
  })

  router.get('/:id', validate({ params: accountParams }), async (req, res) => {
    res.json(await ledger.get(req.params.id, caller(req)))
  })

  router.get(
    '/:id/events',
    validate({ params: accountParams, query: listQuery }),
    async (req, res) => {
      res.json(await ledger.history(req.params.id, req.query, caller(req)))
    },
  )

  router.post(
    '/:id/deposits',
    validate({ params: accountParams, body: movement }),
    async (req, res) => {
      res.status(201).json(await ledger.deposit(req.params.id, req.body.amount, caller(req)))
    },
  )

  router.post(
    '/:id/withdrawals',
    validate({ params: accountParams, body: movement }),
    async (req, res) => {
      res.status(201).json(await ledger.withdraw(req.params.id, req.body.amount, caller(req)))
    },
  )

  return router
}
