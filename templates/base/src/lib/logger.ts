import { type Logger, pino } from 'pino'
import type { CoreConfig } from '../config.js'

/** Never logged, wherever they appear in a log line. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
]

export function createLogger(config: Pick<CoreConfig, 'LOG_LEVEL' | 'NODE_ENV'>): Logger {
  return pino({
    level: config.LOG_LEVEL,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    base: { env: config.NODE_ENV },
  })
}

export type { Logger }
