import type { RequestHandler } from 'express'
import { NotFoundError } from '../lib/errors.js'
import type { FlagStore } from './store.js'

/**
 * A route behind a flag: for a caller the flag is off for, the route does not exist (404, the
 * same answer as for any unknown route), so a dark feature shows nothing of itself.
 *
 * @example router.get('/checkout/v2', requireFlag(flags, 'new-checkout'), newCheckout)
 */
export function requireFlag(flags: FlagStore, name: string): RequestHandler {
  return function requireFlagMiddleware(req, _res, next) {
    if (flags.isEnabled(name, req.user)) next()
    else next(new NotFoundError(`No route for ${req.method} ${req.path}`))
  }
}
