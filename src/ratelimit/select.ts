import { escapeGlob, globMatcher, prefixedPattern } from '../redis/glob.js'
import type { RateLimitKey, RateLimitLayout } from './layout.js'

export interface Selection {
  /** Only this policy (else every policy). */
  policy?: string | undefined
  /** Identities matching this glob. */
  match?: string | undefined
  /** Exactly these identities. */
  identities?: readonly string[] | undefined
}

export interface Selector {
  /** The SCAN MATCH pattern: never reaches outside `<p>rl:`, may let through more than wanted. */
  pattern: string
  /** The exact test, on the parsed key. */
  accept(key: RateLimitKey): boolean
}

/**
 * Which rate-limit keys a selection means. A Redis glob cannot say "a policy name (no colon)",
 * so across policies the pattern is `<p>rl:*:<glob>` (a superset: `*` may swallow part of the
 * identity) and the exact test runs on the client, on the identity part of each key.
 */
export function selectKeys(layout: RateLimitLayout, selection: Selection): Selector {
  const { policy, match, identities } = selection
  const inPolicy = (key: RateLimitKey) => policy === undefined || key.policy === policy
  const base =
    policy === undefined
      ? `${escapeGlob(layout.namespace)}*:`
      : prefixedPattern(`${layout.namespace}${policy}:`, '')
  if (identities) {
    const wanted = new Set(identities)
    const only = identities.length === 1 ? identities[0] : undefined
    return {
      pattern: only === undefined ? prefixedPattern(layout.namespace) : base + escapeGlob(only),
      accept: (key) => inPolicy(key) && wanted.has(key.identity),
    }
  }
  if (match !== undefined) {
    const identityMatches = globMatcher(match)
    return {
      pattern: base + match,
      accept: (key) => inPolicy(key) && identityMatches(key.identity),
    }
  }
  return { pattern: `${base}*`, accept: inPolicy }
}
