import { InvalidArgumentError } from 'commander'
import { parseDuration } from '../core/duration.js'

// Parsers of option values. commander turns an InvalidArgumentError into
// "error: option '--limit <n>' argument 'x' is invalid. Expected …" (exit 2).

export function parsePositiveInt(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('Expected a positive whole number.')
  }
  return n
}

/** A JavaScript regular expression, e.g. `--reason 'ECONNRESET|timeout'` (case-sensitive). */
export function parseRegExp(value: string): RegExp {
  try {
    return new RegExp(value)
  } catch (error) {
    throw new InvalidArgumentError(`Expected a regular expression (${(error as Error).message}).`)
  }
}

/**
 * A point in time: an ISO 8601 date or date-time (`2026-11-25`, `2026-11-25T14:00:00Z`), or a
 * duration meaning that long ago (`30m`, `2h`, `1d`).
 */
export function parseTime(value: string, now: () => number = Date.now): Date {
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d|w)?$/.test(value.trim())) {
    return new Date(now() - parseDuration(value))
  }
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms)) {
    throw new InvalidArgumentError(
      'Expected an ISO date or time (2026-11-25, 2026-11-25T14:00:00Z) or a duration ago (30m, 2h, 1d).',
    )
  }
  return new Date(ms)
}

/** For an option that may be given more than once: `--tag a --tag b` → ['a', 'b']. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}
