import { sql } from 'kysely'
import { confirmDestructive } from '../../core/confirm.js'
import { usingKysely } from '../../core/connections/postgres.js'
import type { CommandContext } from '../../core/context.js'
import type { CommandResult } from '../../core/output.js'
import {
  describeHolder,
  findLockHolder,
  type LockHolder,
  MIGRATION_LOCK_TABLE,
} from '../../migrate/engine.js'
import { applicationName } from './shared.js'

export interface UnlockData {
  /** The session that held kysely's advisory lock and was terminated, if any. */
  terminated: LockHolder | null
  /** Whether kysely's legacy lock row (kysely < 0.29) was set and has been cleared. */
  clearedLockRow: boolean
}

/**
 * kysely ≥ 0.29 locks with a session advisory lock, which the server frees when a crashed run's
 * connection drops; what stays stuck is a run whose session hangs on (a frozen process, a
 * half-open connection). Unlock terminates that session, so its transaction rolls back.
 */
export default async function migrateUnlock(
  ctx: CommandContext,
): Promise<CommandResult<UnlockData>> {
  const target = ctx.databaseUrl()
  const data = await usingKysely(
    target,
    async (db): Promise<UnlockData> => {
      const holder = await findLockHolder(db)
      const { rows } = await sql<{ locked: boolean }>`
        select to_regclass(${MIGRATION_LOCK_TABLE}) is not null as locked`.execute(db)
      const hasLockTable = Boolean(rows[0]?.locked)
      const lockRowSet = hasLockTable
        ? Boolean(
            (
              await sql<{
                n: number
              }>`select count(*)::int as n from ${sql.table(MIGRATION_LOCK_TABLE)} where is_locked = 1`.execute(
                db,
              )
            ).rows[0]?.n,
          )
        : false
      if (!holder && !lockRowSet) return { terminated: null, clearedLockRow: false }
      await confirmDestructive(
        ctx,
        holder
          ? `terminate ${describeHolder(holder)}, which holds the migration lock on ${target.display}`
          : `clear the migration lock row on ${target.display}`,
      )
      if (holder) await sql`select pg_terminate_backend(${holder.pid})`.execute(db)
      if (lockRowSet) {
        await sql`update ${sql.table(MIGRATION_LOCK_TABLE)} set is_locked = 0`.execute(db)
      }
      return { terminated: holder ?? null, clearedLockRow: lockRowSet }
    },
    { applicationName, max: 1 },
  )
  return {
    data,
    render: () => {
      if (!data.terminated && !data.clearedLockRow)
        return 'No migration lock is held; nothing to do.'
      const parts: string[] = []
      if (data.terminated) {
        parts.push(
          `Terminated ${describeHolder(data.terminated)}; its open transaction was rolled back and the lock released.`,
        )
      }
      if (data.clearedLockRow) parts.push('Cleared the legacy lock row in kysely_migration_lock.')
      return parts.join('\n')
    },
  }
}
