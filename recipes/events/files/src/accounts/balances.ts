import type { ColumnType } from 'kysely'
import type { Projection } from '../event-store/projection-runner.js'
import type { RecordedEvent } from '../event-store/store.js'
import { ACCOUNT_STREAM, type Account, type AccountEvent, evolve } from './account.js'

/** The read model: one row per account, its balance and version (bigint: read as a string). */
export interface AccountBalancesTable {
  account_id: string
  owner_id: string
  balance: ColumnType<string, number, number>
  version: number
  opened_at: ColumnType<Date, Date, never>
  updated_at: Date
}

declare module '../db/schema.js' {
  interface Database {
    account_balances: AccountBalancesTable
  }
}

interface Row extends Account {
  openedAt: Date
  updatedAt: Date
}

/**
 * Balances, projected from the ledger's events: what `GET /api/accounts/:id` reads. It folds the
 * events with the aggregate's own `evolve`, so the read model is by construction what a replay
 * of the stream gives, and a rebuild from the log gives back the same rows.
 */
export const accountBalances: Projection = {
  name: 'account-balances',

  async apply(trx, events) {
    const accountEvents = events.filter((event) => event.streamType === ACCOUNT_STREAM)
    if (accountEvents.length === 0) return
    const ids = [...new Set(accountEvents.map((event) => event.streamId))]
    const current = await trx
      .selectFrom('account_balances')
      .selectAll()
      .where('account_id', 'in', ids)
      .execute()
    const rows = new Map<string, Row>(
      current.map((row) => [
        row.account_id,
        {
          id: row.account_id,
          ownerId: row.owner_id,
          balance: Number(row.balance),
          version: row.version,
          openedAt: row.opened_at,
          updatedAt: row.updated_at,
        },
      ]),
    )
    for (const event of accountEvents) {
      const row = rows.get(event.streamId)
      // Each stream's events come in version order; one already applied is not applied again.
      if (row && event.version <= row.version) continue
      const next = evolve(row, event as RecordedEvent & AccountEvent)
      rows.set(event.streamId, {
        ...next,
        openedAt: row?.openedAt ?? event.recordedAt,
        updatedAt: event.recordedAt,
      })
    }
    const changed = ids.flatMap((id) => {
      const row = rows.get(id)
      return row ? [row] : []
    })
    await trx
      .insertInto('account_balances')
      .values(
        changed.map((row) => ({
          account_id: row.id,
          owner_id: row.ownerId,
          balance: row.balance,
          version: row.version,
          opened_at: row.openedAt,
          updated_at: row.updatedAt,
        })),
      )
      .onConflict((conflict) =>
        conflict.column('account_id').doUpdateSet((eb) => ({
          balance: eb.ref('excluded.balance'),
          version: eb.ref('excluded.version'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute()
  },

  async reset(trx) {
    await trx.deleteFrom('account_balances').execute()
  },
}
