import { type Logger, pino } from 'pino'
import type { CoreConfig } from '../config.js'

/**
 * Never logged, wherever these paths occur in a log line. They are explicit on purpose: a
 * wildcard path (`*.password`) makes pino inspect every key of every line, which measured here
 * cost more than the rest of the request logging together. Add the paths your own logs need.
 */
export const redactedPaths = [
  'password',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'user.password',
  'user.passwordHash',
  'body.password',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
]

/**
 * JSON lines on stdout. In production they are written asynchronously in 4 KiB batches (a
 * synchronous write per request costs a third of the throughput); pino flushes what is buffered
 * when the process exits. In development every line is written at once.
 */
export function createLogger(config: Pick<CoreConfig, 'LOG_LEVEL' | 'NODE_ENV'>): Logger {
  const production = config.NODE_ENV === 'production'
  return pino(
    {
      level: config.LOG_LEVEL,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      base: { env: config.NODE_ENV },
    },
    pino.destination({ dest: 1, sync: !production, minLength: production ? 4096 : 0 }),
  )
}

export type { Logger }
