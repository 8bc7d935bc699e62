import { sql } from 'kysely'
import type { Db } from '../db/database.js'
import { withRetry } from '../lib/retry.js'
import type { Schedule } from './cron.js'

/** PostgreSQL errors worth another try: a deadlock, a serialization failure, a restart. */
export function isTransientDatabaseError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  if (typeof code === 'string') {
    return ['40001', '40P01', '57P01', '57P03', '53300'].includes(code) || code.startsWith('08')
  }
  return typeof message === 'string' && /Connection terminated|timeout exceeded/i.test(message)
}

const BATCH = 1_000

/**
 * Deletes what `batch` selects, 1,000 rows per statement (short transactions, no long lock),
 * each statement retried on transient errors. Returns how many rows went.
 */
async function deleteInBatches(batch: () => Promise<number>): Promise<number> {
  let total = 0
  for (;;) {
    const deleted = await withRetry(batch, {
      retries: 4,
      baseMs: 200,
      maxMs: 5_000,
      retryIf: isTransientDatabaseError,
    })
    total += deleted
    if (deleted < BATCH) return total
  }
}

/** The service's schedules (times in CRON_TIMEZONE). Add yours here. */
export function appSchedules(db: Db): Schedule[] {
  return [
    {
      name: 'purge-expired-refresh-tokens',
      description: 'Delete refresh tokens expired more than a day ago (they can never be used)',
      pattern: '30 3 * * *',
      run: async () => ({
        deleted: await deleteInBatches(async () => {
          const result = await sql`
            delete from refresh_tokens where id in (
              select id from refresh_tokens
              where expires_at < now() - interval '1 day'
              limit ${BATCH})`.execute(db.write)
          return Number(result.numAffectedRows ?? 0)
        }),
      }),
    },
    {
      name: 'purge-dispatched-outbox',
      description: 'Delete outbox events dispatched to every target more than 7 days ago',
      pattern: '0 4 * * *',
      run: async () => ({
        deleted: await deleteInBatches(async () => {
          const result = await sql`
            delete from outbox where id in (
              select id from outbox
              where queued_at is not null and published_at is not null
                and created_at < now() - interval '7 days'
              limit ${BATCH})`.execute(db.write)
          return Number(result.numAffectedRows ?? 0)
        }),
      }),
    },
  ]
}
