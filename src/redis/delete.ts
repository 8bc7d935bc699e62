import type { Redis } from 'ioredis'
import { errorMessage } from '../core/errors.js'

/**
 * Most keys per UNLINK. A SCAN batch (≈ 1,000 keys, sometimes a few more) goes whole, in one
 * call of ≈ 1 ms for small values; longer lists are cut here (≈ 2 ms), far under the 10 ms mark.
 */
export const UNLINK_BATCH = 2_000
/** UNLINKs awaiting their reply at once: enough to keep Redis busy, bounded in memory. */
const MAX_IN_FLIGHT = 8

export interface DeleteReport {
  /** Keys found: for a pattern, what SCAN returned (approximate if keys change meanwhile). */
  matched: number
  /** Keys removed (UNLINK's count); 0 on a dry run. */
  deleted: number
  /** The first keys found, to show what went (or would go). */
  sample: string[]
  /**
   * Keys sent in an UNLINK that never answered (the connection dropped with it in flight): Redis
   * may or may not have removed them, so they are in neither count.
   */
  unconfirmed: number
  /** Why it stopped before the end (the connection dropped…), or null. */
  error: string | null
}

export interface DeleteOptions {
  /** Nothing outside this literal prefix is ever deleted, whatever the batches hold. */
  within: string
  /** A further test each key must pass (e.g. a glob on the identity part of a key). */
  accept?: (key: string) => boolean
  dryRun?: boolean
  sampleSize?: number
  onProgress?: (report: Readonly<DeleteReport>) => void
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}

/**
 * Deletes every key the batches hold (SCAN batches, or lists of keys) with pipelined UNLINKs of
 * at most UNLINK_BATCH keys: never KEYS, never a server-side loop, so no call blocks Redis for
 * long. Never throws: a failure half way (a dropped connection) is reported with the counts so
 * far, and nothing after it is attempted.
 */
export async function deleteKeys(
  redis: Redis,
  batches: AsyncIterable<string[]> | Iterable<string[]>,
  options: DeleteOptions,
): Promise<DeleteReport> {
  const report: DeleteReport = { matched: 0, deleted: 0, sample: [], unconfirmed: 0, error: null }
  const sampleSize = options.sampleSize ?? 20
  const inFlight = new Set<Promise<void>>()
  const unlink = (keys: string[]) => {
    const sent: Promise<void> = redis.unlink(...keys).then(
      (removed) => {
        report.deleted += removed
      },
      (error: unknown) => {
        report.unconfirmed += keys.length
        report.error ??= errorMessage(error)
      },
    )
    inFlight.add(sent)
    void sent.finally(() => inFlight.delete(sent))
  }
  try {
    for await (const batch of batches) {
      const keys = batch.filter(
        (key) => key.startsWith(options.within) && (options.accept?.(key) ?? true),
      )
      report.matched += keys.length
      if (report.sample.length < sampleSize) {
        report.sample.push(...keys.slice(0, sampleSize - report.sample.length))
      }
      if (!options.dryRun) {
        for (const chunk of chunks(keys, UNLINK_BATCH)) {
          unlink(chunk)
          if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight)
        }
      }
      if (report.error) break
      options.onProgress?.(report)
    }
  } catch (error) {
    report.error ??= errorMessage(error)
  }
  await Promise.all(inFlight)
  return report
}

export interface KeyOutcome {
  key: string
  /** The key existed (and, unless a dry run, was removed). */
  existed: boolean
  error: string | null
}

/**
 * Deletes (or on a dry run, looks up) each named key, one pipelined UNLINK (EXISTS) per key, so
 * each key gets its own outcome. A Redis failure does not throw: it marks its batch's keys.
 */
export async function deleteEach(
  redis: Redis,
  keys: readonly string[],
  options: Pick<DeleteOptions, 'within' | 'dryRun'>,
): Promise<KeyOutcome[]> {
  const outcomes: KeyOutcome[] = []
  for (const chunk of chunks(keys, UNLINK_BATCH)) {
    const outside = chunk.find((key) => !key.startsWith(options.within))
    if (outside !== undefined)
      throw new Error(`refusing to touch ${outside}: outside ${options.within}`)
    const pipeline = redis.pipeline()
    for (const key of chunk) {
      if (options.dryRun) pipeline.exists(key)
      else pipeline.unlink(key)
    }
    let replies: [Error | null, unknown][]
    try {
      replies = (await pipeline.exec()) ?? []
    } catch (error) {
      const message = errorMessage(error)
      replies = chunk.map(() => [new Error(message), null])
    }
    chunk.forEach((key, i) => {
      const [error, reply] = replies[i] ?? [new Error('no reply'), null]
      outcomes.push({ key, existed: reply === 1, error: error ? errorMessage(error) : null })
    })
  }
  return outcomes
}
