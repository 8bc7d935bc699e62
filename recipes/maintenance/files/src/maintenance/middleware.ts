import type { RequestHandler } from 'express'
import { ServiceUnavailableError } from '../lib/errors.js'
import {
  BYPASS_COOKIE,
  BYPASS_HEADER,
  BYPASS_PATH,
  bypasses,
  DEFAULT_MESSAGE,
  type MaintenanceState,
} from './state.js'

export interface MaintenanceModeOptions {
  /** The current state, known without I/O (MaintenanceWatcher); null when serving. */
  state(): MaintenanceState | null
  /** How long the bypass cookie lasts. */
  cookieMaxAgeS?: number
}

const cookiePattern = new RegExp(`(?:^|;\\s*)${BYPASS_COOKIE}=([^;]*)`)

/**
 * Maintenance mode: while `backendkit down` is in effect every request reaching this point gets
 * 503 with Retry-After and the error body (`code: MAINTENANCE`), except one carrying the bypass
 * secret, in the `X-Maintenance-Bypass` header or in the cookie that visiting
 * `/__maintenance/<secret>` sets. It stands after the health probes in the chain, so
 * `/health/live` and `/health/ready` keep answering. Costs nothing while serving.
 *
 * @example app.use(maintenanceMode({ state: () => watcher.state }))
 */
export function maintenanceMode(options: MaintenanceModeOptions): RequestHandler {
  const maxAge = options.cookieMaxAgeS ?? 12 * 3_600
  return function maintenanceModeMiddleware(req, res, next) {
    const state = options.state()
    if (state === null) {
      next()
      return
    }
    if (state.secretHash !== null) {
      if (req.path.startsWith(BYPASS_PATH) && bypasses(state, req.path.slice(BYPASS_PATH.length))) {
        const secure = req.secure ? '; Secure' : ''
        res
          .set('Cache-Control', 'no-store')
          .append(
            'Set-Cookie',
            `${BYPASS_COOKIE}=${req.path.slice(BYPASS_PATH.length)}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure}`,
          )
          .json({ maintenance: true, bypass: true })
        return
      }
      const header = req.headers[BYPASS_HEADER]
      const candidate =
        typeof header === 'string' ? header : cookiePattern.exec(req.headers.cookie ?? '')?.[1]
      if (candidate !== undefined && bypasses(state, candidate)) {
        next()
        return
      }
    }
    next(
      new ServiceUnavailableError(state.message ?? DEFAULT_MESSAGE, {
        code: 'MAINTENANCE',
        headers: { 'Retry-After': String(state.retryAfter), 'Cache-Control': 'no-store' },
      }),
    )
  }
}
