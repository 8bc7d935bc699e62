/**
 * How a feature flag is evaluated for a user. The service (src/flags/store.ts) and
 * `backendkit flags eval` run this very file, so an answer in a terminal is the answer the
 * service gives. It has no imports and does no I/O: every evaluation is a few map and set
 * lookups and, for a partial rollout, one hash.
 *
 * The order, for user `u` and flag `f`:
 * 1. `u` in the deny list → off (`deny`);
 * 2. `u` in the allow list → on (`allow`), even while the flag is off: ship dark, test in prod;
 * 3. the flag off → off (`off`);
 * 4. on for `u` when `u`'s rollout bucket is below the percentage (`percentage`).
 *
 * A flag nobody created is off (`unknown`). Without a user (an anonymous caller) only steps 3
 * and 4 apply, and a partial rollout is off: there is no id to hash.
 *
 * Rollout bucket (stable across releases; changing it would move users in and out of every
 * rollout): MurmurHash3 x86 32-bit, seed 0, of the UTF-8 bytes of `"<flag>:<userId>"`, modulo
 * 100. For ASCII ids that is Unleash's `normalizedValue(userId, flag) - 1`, so a flag moved
 * between the two keeps its users. Raising a percentage only adds users: whoever had the flag at
 * 10 % still has it at 20 %.
 */

/** 1–64 characters: lowercase letters, digits, `.`, `_`, `-`; a letter or digit at both ends. */
export const FLAG_NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/

/** Why a flag is off for a name, or undefined when the name is a valid flag name. */
export function flagNameProblem(name: string): string | undefined {
  if (FLAG_NAME.test(name)) return undefined
  return `"${name}" is not a valid flag name: use 1 to 64 lowercase letters, digits, ".", "_" and "-", starting and ending with a letter or digit (e.g. new-checkout)`
}

/** Why a user id cannot go in an allow or deny list, or undefined when it can. */
export function userIdProblem(id: string): string | undefined {
  if (id.length === 0 || id.length > 200) return 'a user id has 1 to 200 characters'
  if (id.includes(',')) return `user id "${id}" contains a comma (lists are comma-separated)`
  if (id.trim() !== id) return `user id "${id}" starts or ends with whitespace`
  return undefined
}

/** A flag as it is stored (one row of the flags table). */
export interface FlagRule {
  name: string
  enabled: boolean
  /** 0 to 100: the share of users (by rollout bucket) who get the flag while it is enabled. */
  percentage: number
  allow: readonly string[]
  deny: readonly string[]
}

export type EvaluationReason = 'deny' | 'allow' | 'percentage' | 'off' | 'unknown'

export interface Evaluation {
  enabled: boolean
  reason: EvaluationReason
}

/** Whom a flag is evaluated for: a user (`req.user`), a user id, or nobody (anonymous). */
export type FlagUser = { readonly id: string } | string | null | undefined

// Evaluations are answers shared by every call: evaluating allocates nothing.
const answers = {
  deny: Object.freeze({ enabled: false, reason: 'deny' }),
  allow: Object.freeze({ enabled: true, reason: 'allow' }),
  off: Object.freeze({ enabled: false, reason: 'off' }),
  unknown: Object.freeze({ enabled: false, reason: 'unknown' }),
  in: Object.freeze({ enabled: true, reason: 'percentage' }),
  out: Object.freeze({ enabled: false, reason: 'percentage' }),
} satisfies Record<string, Evaluation>

const encoder = new TextEncoder()
let scratch = new Uint8Array(256)

/** MurmurHash3 x86 32-bit of the UTF-8 bytes of `text` (an unsigned 32-bit integer). */
export function murmur3(text: string, seed = 0): number {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3)
  const bytes = scratch
  const length = encoder.encodeInto(text, bytes).written
  const blocks = length & ~3
  let h = seed | 0
  for (let i = 0; i < blocks; i += 4) {
    let k =
      (bytes[i] as number) |
      ((bytes[i + 1] as number) << 8) |
      ((bytes[i + 2] as number) << 16) |
      ((bytes[i + 3] as number) << 24)
    k = Math.imul(k, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    h ^= Math.imul(k, 0x1b873593)
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  const tail = length & 3
  if (tail > 0) {
    let k = 0
    if (tail === 3) k ^= (bytes[blocks + 2] as number) << 16
    if (tail >= 2) k ^= (bytes[blocks + 1] as number) << 8
    k ^= bytes[blocks] as number
    k = Math.imul(k, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    h ^= Math.imul(k, 0x1b873593)
  }
  h ^= length
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** The user's rollout bucket for a flag, 0 to 99: on when it is below the percentage. */
export function rolloutBucket(flag: string, userId: string): number {
  return murmur3(`${flag}:${userId}`) % 100
}

interface CompiledFlag {
  rule: FlagRule
  allow: ReadonlySet<string>
  deny: ReadonlySet<string>
}

function userIdOf(user: FlagUser): string | undefined {
  if (user === null || user === undefined) return undefined
  return typeof user === 'string' ? user : user.id
}

function decide(flag: CompiledFlag | undefined, userId: string | undefined): Evaluation {
  if (flag === undefined) return answers.unknown
  if (userId !== undefined) {
    if (flag.deny.has(userId)) return answers.deny
    if (flag.allow.has(userId)) return answers.allow
  }
  const { enabled, percentage, name } = flag.rule
  if (!enabled) return answers.off
  if (percentage >= 100) return answers.in
  if (percentage <= 0 || userId === undefined) return answers.out
  return rolloutBucket(name, userId) < percentage ? answers.in : answers.out
}

function sameRule(a: FlagRule, b: FlagRule): boolean {
  const sameList = (x: readonly string[], y: readonly string[]) =>
    x.length === y.length && x.every((item, i) => item === y[i])
  return (
    a.enabled === b.enabled &&
    a.percentage === b.percentage &&
    sameList(a.allow, b.allow) &&
    sameList(a.deny, b.deny)
  )
}

/** A set of flags, held in memory and evaluated without I/O. Immutable: a refresh builds another. */
export class FlagSet {
  readonly #flags = new Map<string, CompiledFlag>()
  readonly #names: readonly string[]

  constructor(rules: Iterable<FlagRule> = []) {
    for (const rule of rules) {
      this.#flags.set(rule.name, { rule, allow: new Set(rule.allow), deny: new Set(rule.deny) })
    }
    this.#names = [...this.#flags.keys()].sort()
  }

  get size(): number {
    return this.#flags.size
  }

  /** The flags' names, sorted. */
  names(): string[] {
    return [...this.#names]
  }

  rule(name: string): FlagRule | undefined {
    return this.#flags.get(name)?.rule
  }

  evaluate(name: string, user?: FlagUser): Evaluation {
    return decide(this.#flags.get(name), userIdOf(user))
  }

  isEnabled(name: string, user?: FlagUser): boolean {
    return decide(this.#flags.get(name), userIdOf(user)).enabled
  }

  /** Every flag, on or off for this user: `{"new-checkout": true, …}`. */
  evaluateAll(user?: FlagUser): Record<string, boolean> {
    const userId = userIdOf(user)
    const all: Record<string, boolean> = {}
    for (const name of this.#names) all[name] = decide(this.#flags.get(name), userId).enabled
    return all
  }

  /** Names of the flags that were added, removed or changed since `previous`. */
  changedSince(previous: FlagSet): string[] {
    const changed = new Set<string>()
    for (const [name, flag] of this.#flags) {
      const before = previous.rule(name)
      if (!before || !sameRule(before, flag.rule)) changed.add(name)
    }
    for (const name of previous.#names) if (!this.#flags.has(name)) changed.add(name)
    return [...changed].sort()
  }
}
