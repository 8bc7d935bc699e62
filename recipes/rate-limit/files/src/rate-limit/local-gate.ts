interface Entry {
  tokens: number
  updatedAt: number
  /** Redis refused this identity until then: refuse it here, without asking again. */
  blockedUntil: number
}

export type GateDecision = { open: true } | { open: false; retryAfterMs: number }

/**
 * In front of Redis, per instance: a token bucket per identity (capacity = the quota, refilled at
 * quota per window) refuses a burst beyond what the window could admit, and an identity Redis
 * refused is refused here until its reset. Neither costs a Redis call; Redis stays the judge of
 * what is admitted. Bounded: the least recently seen identities are forgotten first.
 */
export class LocalGate {
  private readonly entries = new Map<string, Entry>()
  private readonly refillPerMs: number

  constructor(
    private readonly capacity: number,
    windowMs: number,
    private readonly maxEntries = 50_000,
  ) {
    this.refillPerMs = capacity / windowMs
  }

  /** Takes a token for `identity`, or says how long to wait. */
  take(identity: string, now = Date.now()): GateDecision {
    const entry = this.entry(identity, now)
    if (entry.blockedUntil > now) return { open: false, retryAfterMs: entry.blockedUntil - now }
    entry.tokens = Math.min(
      this.capacity,
      entry.tokens + (now - entry.updatedAt) * this.refillPerMs,
    )
    entry.updatedAt = now
    if (entry.tokens < 1)
      return { open: false, retryAfterMs: (1 - entry.tokens) / this.refillPerMs }
    entry.tokens -= 1
    return { open: true }
  }

  /** Gives back a token Redis did not count (the request was refused there). */
  giveBack(identity: string): void {
    const entry = this.entries.get(identity)
    if (entry) entry.tokens = Math.min(this.capacity, entry.tokens + 1)
  }

  /** Forgets `identity` (a full bucket, no block), or every identity. */
  forget(identity?: string): void {
    if (identity === undefined) this.entries.clear()
    else this.entries.delete(identity)
  }

  block(identity: string, untilMs: number): void {
    this.entry(identity, Date.now()).blockedUntil = untilMs
  }

  private entry(identity: string, now: number): Entry {
    let entry = this.entries.get(identity)
    if (entry) {
      // Re-inserting moves it to the end: the Map's first key is the least recently seen.
      this.entries.delete(identity)
    } else {
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next().value
        if (oldest !== undefined) this.entries.delete(oldest)
      }
      entry = { tokens: this.capacity, updatedAt: now, blockedUntil: 0 }
    }
    this.entries.set(identity, entry)
    return entry
  }
}
