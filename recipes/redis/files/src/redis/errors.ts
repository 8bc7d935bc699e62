import { ServiceUnavailableError } from '../lib/errors.js'
import type { ErrorMapper } from '../module.js'

/** ioredis's words for "Redis cannot serve this command now". */
const unavailable =
  /enableOfflineQueue|Connection is closed|Command timed out|^(LOADING|READONLY|MASTERDOWN|MISCONF|BUSY|OOM)\b/

/**
 * A Redis that cannot be reached (or is loading, read-only, out of memory) is the service being
 * unavailable: 503 with Retry-After. Modules that can do without Redis (cache reads, an open rate
 * limit) handle the outage themselves; this is for the ones that cannot.
 */
export const redisErrors: ErrorMapper = (error) => {
  if (!(error instanceof Error)) return undefined
  if (error.name !== 'MaxRetriesPerRequestError' && !unavailable.test(error.message)) {
    return undefined
  }
  return new ServiceUnavailableError('Service temporarily unavailable', {
    headers: { 'Retry-After': '5' },
  })
}
