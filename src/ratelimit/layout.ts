/*
 * The sliding-window rate limiter's keys, as the generated service writes them (README: "Redis
 * key layout"). `<p>` is the key prefix.
 *
 *   <p>rl:<policy>:<identity>   ZSET, one member per admitted request, score = admission time in
 *                               ms (Redis time); PEXPIRE = the window on every admission
 *   <p>rl-policies              HASH, policy → {"q": max requests, "w": window seconds}
 *   <p>rl-reset                 pub/sub channel: after a reset, {"policy", "identities"|"match"};
 *                               every instance forgets what it held in process (its token
 *                               buckets, identities it refused until their reset)
 *
 * Policy names never contain `:`, so the first `:` after `rl:` ends the policy; identities may
 * contain colons (`ip:::1`, `user:<uuid>`).
 */

export const POLICY_NAME = /^[a-z0-9_-]+$/

export interface Policy {
  name: string
  /** Requests admitted per window (the RateLimit-Policy `q`). */
  quota: number
  /** Window length in seconds (`w`). */
  window: number
}

export interface RateLimitKey {
  redisKey: string
  policy: string
  identity: string
}

export interface RateLimitLayout {
  /** `<p>rl:`: every rate-limit key starts with it. */
  namespace: string
  /** `<p>rl-policies` */
  policiesKey: string
  /** `<p>rl-reset`: announced after a reset, so each instance drops its local state at once. */
  resetChannel: string
  keyOf(policy: string, identity: string): string
  /** The policy and identity of a key under the namespace; undefined for anything else. */
  parse(redisKey: string): RateLimitKey | undefined
}

export function rateLimitLayout(prefix: string): RateLimitLayout {
  const namespace = `${prefix}rl:`
  return {
    namespace,
    policiesKey: `${prefix}rl-policies`,
    resetChannel: `${prefix}rl-reset`,
    keyOf: (policy, identity) => `${namespace}${policy}:${identity}`,
    parse(redisKey) {
      if (!redisKey.startsWith(namespace)) return undefined
      const rest = redisKey.slice(namespace.length)
      const colon = rest.indexOf(':')
      if (colon < 1 || colon === rest.length - 1) return undefined
      return { redisKey, policy: rest.slice(0, colon), identity: rest.slice(colon + 1) }
    },
  }
}

/** The `rl-policies` hash as policies; a field whose value is not `{q, w}` is skipped. */
export function parsePolicies(hash: Record<string, string>): Map<string, Policy> {
  const policies = new Map<string, Policy>()
  for (const [name, raw] of Object.entries(hash)) {
    try {
      const { q, w } = JSON.parse(raw) as { q?: unknown; w?: unknown }
      if (typeof q === 'number' && typeof w === 'number' && q >= 0 && w > 0) {
        policies.set(name, { name, quota: q, window: w })
      }
    } catch {
      // not written by the service: ignore it rather than fail every command
    }
  }
  return policies
}

export interface WindowState {
  /** Requests in the window (for a policy not in rl-policies: every member of the key). */
  count: number | null
  quota: number | null
  window: number | null
  remaining: number | null
  /** Seconds until the oldest request in the window leaves it (0 when the window is empty). */
  reset: number | null
}

/**
 * A key's state at `nowMs`: `count` members scored after now − window, the oldest of them at
 * `oldestMs`. Without its policy only the count is known.
 */
export function windowState(
  policy: Policy | undefined,
  count: number,
  oldestMs: number | null,
  nowMs: number,
): WindowState {
  if (!policy) return { count, quota: null, window: null, remaining: null, reset: null }
  const reset =
    count === 0 || oldestMs === null
      ? 0
      : Math.max(0, Math.ceil((oldestMs + policy.window * 1000 - nowMs) / 1000))
  return {
    count,
    quota: policy.quota,
    window: policy.window,
    remaining: Math.max(0, policy.quota - count),
    reset,
  }
}
