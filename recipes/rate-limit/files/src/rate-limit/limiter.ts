import type { Logger } from '../lib/logger.js'
import { LocalGate } from './local-gate.js'
import type { SlidingWindow } from './sliding-window.js'

export interface RateLimitPolicy {
  name: string
  /** q: requests admitted per window. */
  limit: number
  /** w: the window, in seconds. */
  windowSeconds: number
  /** Redis unreachable: let requests through (`open`) or refuse them with a 503 (`closed`). */
  onStoreError: 'open' | 'closed'
}

export type Decision =
  | { outcome: 'admitted' | 'refused'; remaining: number; resetMs: number }
  /** Redis could not be asked: the policy's onStoreError decides. */
  | { outcome: 'unknown' }

/**
 * One policy: the local gate first (no Redis call for a burst or an identity already refused),
 * then the exact sliding window in Redis, counting the request against every identity given.
 */
export class RateLimiter {
  private readonly gate: LocalGate
  private storeDown = false

  constructor(
    readonly policy: RateLimitPolicy,
    private readonly window: SlidingWindow,
    private readonly keyOf: (identity: string) => string,
    private readonly logger: Logger,
  ) {
    this.gate = new LocalGate(policy.limit, policy.windowSeconds * 1_000)
  }

  /**
   * Drops what this instance holds in process about `identities` (or everyone): after an
   * operator's `backendkit ratelimit reset`, so the reset takes effect here at once.
   */
  forgetLocal(identities?: readonly string[]): void {
    if (!identities) this.gate.forget()
    else for (const identity of identities) this.gate.forget(identity)
  }

  async check(identities: readonly string[]): Promise<Decision> {
    const now = Date.now()
    const taken: string[] = []
    for (const identity of identities) {
      const local = this.gate.take(identity, now)
      if (!local.open) {
        for (const given of taken) this.gate.giveBack(given)
        return { outcome: 'refused', remaining: 0, resetMs: local.retryAfterMs }
      }
      taken.push(identity)
    }
    let result: Awaited<ReturnType<SlidingWindow['hit']>>
    try {
      result = await this.window.hit(
        identities.map(this.keyOf),
        this.policy.limit,
        this.policy.windowSeconds * 1_000,
      )
    } catch (error) {
      if (!this.storeDown) {
        this.storeDown = true
        this.logger.warn(
          { err: error, policy: this.policy.name, onStoreError: this.policy.onStoreError },
          'rate limit store unreachable',
        )
      }
      return { outcome: 'unknown' }
    }
    if (this.storeDown) {
      this.storeDown = false
      this.logger.info({ policy: this.policy.name }, 'rate limit store reachable again')
    }
    if (!result.admitted) for (const identity of taken) this.gate.giveBack(identity)
    // With one identity and no room left, Redis would refuse until the reset: refuse it here
    // until then, with the exact Retry-After, without asking again.
    const [only] = identities
    if (
      only !== undefined &&
      identities.length === 1 &&
      (!result.admitted || result.remaining === 0)
    ) {
      this.gate.block(only, now + result.resetMs)
    }
    return result.admitted
      ? { outcome: 'admitted', remaining: result.remaining, resetMs: result.resetMs }
      : { outcome: 'refused', remaining: 0, resetMs: result.resetMs }
  }
}
