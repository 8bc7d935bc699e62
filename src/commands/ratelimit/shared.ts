import type { Style } from '../../core/output.js'
import { table } from '../../core/output.js'
import type { Policy } from '../../ratelimit/layout.js'
import type { RateLimitEntry } from '../../ratelimit/read.js'

/** Busiest first (unreadable keys last), then by key, so the order is stable. */
export function byCount(a: RateLimitEntry, b: RateLimitEntry): number {
  return (
    (b.count ?? -1) - (a.count ?? -1) ||
    (a.redisKey < b.redisKey ? -1 : a.redisKey > b.redisKey ? 1 : 0)
  )
}

export function policyList(policies: ReadonlyMap<string, Policy>): Policy[] {
  return [...policies.values()].sort((a, b) => a.name.localeCompare(b.name))
}

const shown = (value: number | null, unit = '') => (value === null ? '-' : `${value}${unit}`)

export function renderEntries(
  entries: readonly RateLimitEntry[],
  style: Style,
  withIdentity: boolean,
): string {
  const rows = entries.map((e) => {
    const state = e.error ? style.red(e.error) : e.remaining === 0 ? style.red('limited') : ''
    const cells = [
      e.policy,
      shown(e.count),
      shown(e.quota),
      shown(e.remaining),
      shown(e.reset, ' s'),
      state,
    ]
    return withIdentity ? [e.identity, ...cells] : cells
  })
  const headers = ['POLICY', 'COUNT', 'QUOTA', 'REMAINING', 'RESET', '']
  return table(withIdentity ? ['IDENTITY', ...headers] : headers, rows, style, [
    ...(withIdentity ? ['left' as const] : []),
    'left',
    'right',
    'right',
    'right',
    'right',
  ])
}

/** A note for keys whose policy the service did not describe in rl-policies. */
export function unknownPolicyNote(
  entries: readonly RateLimitEntry[],
  policiesKey: string,
  style: Style,
): string[] {
  const unknown = [
    ...new Set(entries.filter((e) => e.quota === null && !e.error).map((e) => e.policy)),
  ]
  if (unknown.length === 0) return []
  return [
    style.dim(
      `Policy ${unknown.join(', ')} is not in ${policiesKey}: count only (every request the key holds).`,
    ),
  ]
}
