import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Maintenance mode as it is stored: `backendkit down` writes this JSON at `<prefix>maintenance`
 * and announces it on the channel of the same name; `backendkit up` deletes the key and announces
 * that. The service (src/maintenance/watcher.ts) and the CLI both use this file, so they cannot
 * disagree on the key, the format or how a bypass secret is checked.
 */
export interface MaintenanceState {
  /** When maintenance began (ISO 8601). */
  since: string
  /** Seconds a client should wait before trying again (the Retry-After header). */
  retryAfter: number
  /** What clients are told; a default sentence when null. */
  message: string | null
  /** SHA-256 (hex) of the bypass secret; null when nothing bypasses. The secret is not stored. */
  secretHash: string | null
  /** Who took the service down. */
  by: string | null
}

export const DEFAULT_RETRY_AFTER_S = 60
export const DEFAULT_MESSAGE = 'The service is down for maintenance; try again shortly'

/** The header a request carries the bypass secret in. */
export const BYPASS_HEADER = 'x-maintenance-bypass'
/** The cookie a visit to `/__maintenance/<secret>` sets. */
export const BYPASS_COOKIE = 'maintenance_bypass'
export const BYPASS_PATH = '/__maintenance/'

/** 8 to 128 URL-safe characters: the secret travels in a path, a header and a cookie. */
export const BYPASS_SECRET = /^[A-Za-z0-9._~-]{8,128}$/

/** `<prefix>maintenance`: the key, and the channel changes are announced on. */
export function maintenanceKey(prefix: string): string {
  return `${prefix}maintenance`
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/** Whether `candidate` is the bypass secret of `state` (in constant time). */
export function bypasses(state: MaintenanceState, candidate: string): boolean {
  if (!state.secretHash || candidate.length === 0) return false
  const expected = Buffer.from(state.secretHash, 'hex')
  const actual = Buffer.from(hashSecret(candidate), 'hex')
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

/**
 * The state a key's value describes: null when there is no key. A value that is not this JSON
 * (e.g. set by hand with `redis-cli set <prefix>maintenance 1`) still means maintenance, with the
 * defaults: when in doubt, stay down.
 */
export function parseMaintenanceState(raw: string | null): MaintenanceState | null {
  if (raw === null) return null
  let value: Partial<Record<keyof MaintenanceState, unknown>> = {}
  try {
    const parsed: unknown = JSON.parse(raw)
    if (parsed && typeof parsed === 'object') value = parsed
  } catch {
    // not JSON: the defaults below
  }
  const text = (field: unknown) => (typeof field === 'string' && field !== '' ? field : null)
  const retryAfter = value.retryAfter
  return {
    since: text(value.since) ?? new Date(0).toISOString(),
    retryAfter:
      typeof retryAfter === 'number' && Number.isInteger(retryAfter) && retryAfter >= 0
        ? retryAfter
        : DEFAULT_RETRY_AFTER_S,
    message: text(value.message),
    secretHash:
      typeof value.secretHash === 'string' && /^[0-9a-f]{64}$/.test(value.secretHash)
        ? value.secretHash
        : null,
    by: text(value.by),
  }
}
