export interface RetryOptions {
  /** Attempts after the first: `retries: 3` calls `fn` at most 4 times. */
  retries: number
  /** The cap of the first delay; each retry doubles it… */
  baseMs: number
  /** …up to this. */
  maxMs: number
  /** Retry only errors this accepts (default: every error). */
  retryIf?: (error: unknown) => boolean
  /** Called before each wait, e.g. to log. */
  onRetry?: (error: unknown, retry: number, delayMs: number) => void
  /** Stops waiting and rejects with the last error once aborted. */
  signal?: AbortSignal
  /** For tests: a number in [0, 1). */
  random?: () => number
  /** For tests: how to wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

/**
 * The wait before retry number `retry` (1, 2, …): "full jitter", a random time between 0 and
 * min(maxMs, baseMs × 2^(retry − 1)). Callers that failed together spread out instead of
 * retrying in lockstep and failing together again (AWS Architecture Blog, "Exponential Backoff
 * and Jitter").
 */
export function retryDelay(
  retry: number,
  options: Pick<RetryOptions, 'baseMs' | 'maxMs'>,
  random: () => number = Math.random,
): number {
  const cap = Math.min(options.maxMs, options.baseMs * 2 ** (retry - 1))
  return Math.floor(random() * cap)
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(done, ms)
    function done() {
      signal?.removeEventListener('abort', aborted)
      resolve()
    }
    function aborted() {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', aborted, { once: true })
  })

/**
 * Calls `fn` until it resolves, retrying failures with exponential backoff and full jitter, for
 * calls to other services that fail now and then (a deadlock, a dropped connection, a 503).
 * Rejects with the last error once `retries` are spent, at once for an error `retryIf` refuses,
 * and when `signal` aborts.
 *
 * @example
 * const rows = await withRetry(() => purgeBatch(db), {
 *   retries: 5, baseMs: 100, maxMs: 5_000, retryIf: isTransient,
 * })
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const sleep = options.sleep ?? defaultSleep
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      const retry = attempt
      if (retry > options.retries || options.signal?.aborted) throw error
      if (options.retryIf && !options.retryIf(error)) throw error
      const delayMs = retryDelay(retry, options, options.random)
      options.onRetry?.(error, retry, delayMs)
      try {
        await sleep(delayMs, options.signal)
      } catch {
        throw error
      }
    }
  }
}
