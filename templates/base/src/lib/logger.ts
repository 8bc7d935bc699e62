import { type DestinationStream, type Logger, pino } from 'pino'
import type { CoreConfig } from '../config.js'
import { requestContext } from './request-context.js'

/**
 * Never logged, wherever these paths occur in a log line. They are explicit on purpose: a
 * wildcard path (`*.password`) makes pino inspect every key of every line, which measured here
 * cost more than the rest of the request logging together. Add the paths your own logs need.
 */
export const redactedPaths = [
  'password',
  'currentPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'user.password',
  'user.passwordHash',
  'body.password',
  'body.currentPassword',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
]

/**
 * JSON lines on stdout (or `destination`). In production they are written asynchronously in
 * 4 KiB batches (a synchronous write per request costs a third of the throughput); pino flushes
 * what is buffered when the process exits. In development every line is written at once.
 *
 * Every line written while a request is served carries its id (`reqId`), whichever module wrote it.
 */
export function createLogger(
  config: Pick<CoreConfig, 'LOG_LEVEL' | 'NODE_ENV'>,
  destination?: DestinationStream,
): Logger {
  const production = config.NODE_ENV === 'production'
  return pino(
    {
      level: config.LOG_LEVEL,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      base: { env: config.NODE_ENV },
      mixin() {
        const context = requestContext.getStore()
        return context ? { reqId: context.requestId } : {}
      },
    },
    destination ??
      pino.destination({ dest: 1, sync: !production, minLength: production ? 4096 : 0 }),
  )
}

export type { Logger }
