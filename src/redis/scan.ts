import type { Redis } from 'ioredis'

/** Keys SCAN looks at per call: ≈ 1 ms of Redis each, so other clients never wait long. */
export const SCAN_COUNT = 1_000

export interface ScanOptions {
  /** A MATCH pattern; build it with prefixedPattern() so it cannot reach outside a prefix. */
  match: string
  count?: number
  /** Only keys of this Redis type (SCAN … TYPE), e.g. 'zset'. */
  type?: string
}

/**
 * The keys matching a pattern, one SCAN batch at a time; never KEYS, so Redis stays responsive
 * however many keys there are. The next SCAN is already on its way while the caller works on a
 * batch, so a caller that sends commands per batch (UNLINK, ZCOUNT…) keeps Redis busy instead
 * of waiting a round trip per batch. A batch may be empty, and SCAN may return a key twice when
 * the keyspace is rehashed during the scan (callers count, they never rely on uniqueness).
 */
export async function* scanKeys(redis: Redis, options: ScanOptions): AsyncGenerator<string[]> {
  const count = options.count ?? SCAN_COUNT
  const scan = (cursor: string) =>
    options.type
      ? redis.scan(cursor, 'MATCH', options.match, 'COUNT', count, 'TYPE', options.type)
      : redis.scan(cursor, 'MATCH', options.match, 'COUNT', count)
  let pending = scan('0')
  try {
    for (;;) {
      const [cursor, keys] = await pending
      if (cursor === '0') {
        yield keys
        return
      }
      pending = scan(cursor)
      yield keys
    }
  } finally {
    // A caller that stops early leaves one SCAN in flight: its outcome no longer matters.
    pending.catch(() => {})
  }
}

/** The members of a set, one SSCAN batch at a time (for sets too large for SMEMBERS). */
export async function* scanSetMembers(
  redis: Redis,
  key: string,
  count = SCAN_COUNT,
): AsyncGenerator<string[]> {
  let cursor = '0'
  do {
    const [next, members] = await redis.sscan(key, cursor, 'COUNT', count)
    cursor = next
    yield members
  } while (cursor !== '0')
}
