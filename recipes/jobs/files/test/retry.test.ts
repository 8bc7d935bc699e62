import { describe, expect, it } from 'vitest'
import { retryDelay, withRetry } from '../src/lib/retry.js'

const noWait = async () => {}

/** A function failing `failures` times, then answering 'done'; records its attempts. */
function flaky(failures: number, error: unknown = new Error('flaky')) {
  const attempts: number[] = []
  const fn = async (attempt: number) => {
    attempts.push(attempt)
    if (attempts.length <= failures) throw error
    return 'done'
  }
  return { fn, attempts }
}

describe('retryDelay: exponential backoff with full jitter', () => {
  it.each([
    // retry, random, delay: random × min(maxMs, baseMs × 2^(retry − 1)), baseMs 100, maxMs 1000
    [1, 0.999, 99],
    [2, 0.999, 199],
    [3, 0.999, 399],
    [4, 0.999, 799],
    [5, 0.999, 999], // capped at maxMs
    [9, 0.999, 999],
    [3, 0.5, 200],
    [3, 0, 0], // full jitter reaches down to zero
  ])('retry %i with random %d waits %i ms', (retry, random, delay) => {
    expect(retryDelay(retry, { baseMs: 100, maxMs: 1_000 }, () => random)).toBe(delay)
  })

  it('spreads callers that failed together over the whole window', () => {
    const delays = Array.from({ length: 1_000 }, () => retryDelay(4, { baseMs: 100, maxMs: 1_000 }))
    expect(Math.min(...delays)).toBeLessThan(100)
    expect(Math.max(...delays)).toBeGreaterThan(700)
    expect(Math.max(...delays)).toBeLessThan(800)
  })
})

describe('withRetry', () => {
  it.each([
    [0, 3, 1],
    [2, 3, 3],
    [3, 3, 4],
  ])('%i failures with %i retries: succeeds after %i calls', async (failures, retries, calls) => {
    const { fn, attempts } = flaky(failures)
    await expect(withRetry(fn, { retries, baseMs: 1, maxMs: 1, sleep: noWait })).resolves.toBe(
      'done',
    )
    expect(attempts).toEqual(Array.from({ length: calls }, (_, i) => i + 1))
  })

  it('rejects with the last error once the retries are spent', async () => {
    let n = 0
    const fn = async () => {
      throw new Error(`failure ${++n}`)
    }
    await expect(withRetry(fn, { retries: 2, baseMs: 1, maxMs: 1, sleep: noWait })).rejects.toThrow(
      'failure 3',
    )
  })

  it('waits the backoff between attempts, and tells onRetry', async () => {
    const waits: number[] = []
    const told: [number, number][] = []
    const { fn } = flaky(3)
    await withRetry(fn, {
      retries: 5,
      baseMs: 100,
      maxMs: 250,
      random: () => 0.5,
      sleep: async (ms) => void waits.push(ms),
      onRetry: (_error, retry, delayMs) => void told.push([retry, delayMs]),
    })
    expect(waits).toEqual([50, 100, 125])
    expect(told).toEqual([
      [1, 50],
      [2, 100],
      [3, 125],
    ])
  })

  it('does not retry an error retryIf refuses', async () => {
    const permanent = Object.assign(new Error('bad request'), { status: 400 })
    const { fn, attempts } = flaky(5, permanent)
    await expect(
      withRetry(fn, {
        retries: 5,
        baseMs: 1,
        maxMs: 1,
        sleep: noWait,
        retryIf: (error) => (error as { status?: number }).status !== 400,
      }),
    ).rejects.toBe(permanent)
    expect(attempts).toEqual([1])
  })

  it('stops waiting when its signal aborts, with the last error', async () => {
    const controller = new AbortController()
    const { fn, attempts } = flaky(10)
    const running = withRetry(fn, {
      retries: 10,
      baseMs: 60_000,
      maxMs: 60_000,
      signal: controller.signal,
    })
    await new Promise((resolve) => setTimeout(resolve, 20))
    controller.abort()
    await expect(running).rejects.toThrow('flaky')
    expect(attempts).toEqual([1])
  })
})
