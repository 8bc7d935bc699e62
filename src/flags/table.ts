/*
 * The flags table and its history, as the flags recipe's migration creates them (README: "Flags
 * tables"). `<t>` is `flags.table` of backendkit.json.
 *
 *   <t>           name (primary key), enabled, percentage (0–100), allow_list and deny_list
 *                 (text[]), description, updated_at, updated_by
 *   <t>_history   id, flag, action (create | update | delete), actor, changed_at, before and
 *                 after (jsonb: {enabled, percentage, allow, deny, description}, null for none)
 *
 * Every change writes the flag and its history row in one transaction, holding the flag's row
 * lock, so concurrent changes are recorded one after the other, each `before` the previous
 * `after`.
 */
import { type Kysely, sql, type Transaction } from 'kysely'
import { BackendkitError } from '../core/errors.js'
import { applyChange, diffSettings, type FlagChange, type FlagSettings } from './change.js'

// biome-ignore lint/suspicious/noExplicitAny: the table's name comes from backendkit.json
type Db = Kysely<any>
// biome-ignore lint/suspicious/noExplicitAny: see Db
type Trx = Transaction<any>

export interface FlagTables {
  table: string
  history: string
}

export function flagTables(table: string): FlagTables {
  return { table, history: `${table}_history` }
}

/** A flag as `flags list` and `flags get` show it. */
export interface FlagView extends FlagSettings {
  name: string
  /** ISO time of the last change. */
  updatedAt: string
  updatedBy: string
}

export type HistoryAction = 'create' | 'update' | 'delete'

export interface HistoryEntry {
  id: number
  action: HistoryAction
  actor: string
  /** ISO time of the change. */
  at: string
  before: FlagSettings | null
  after: FlagSettings | null
}

interface FlagRow {
  name: string
  enabled: boolean
  percentage: number
  allow_list: string[]
  deny_list: string[]
  description: string
  updated_at: Date
  updated_by: string
}

export function settingsOf(flag: FlagSettings): FlagSettings {
  const { enabled, percentage, allow, deny, description } = flag
  return { enabled, percentage, allow, deny, description }
}

function toView(row: FlagRow): FlagView {
  return {
    name: row.name,
    enabled: row.enabled,
    percentage: row.percentage,
    allow: row.allow_list,
    deny: row.deny_list,
    description: row.description,
    updatedAt: row.updated_at.toISOString(),
    updatedBy: row.updated_by,
  }
}

function toColumns(settings: FlagSettings) {
  return {
    enabled: settings.enabled,
    percentage: settings.percentage,
    allow_list: settings.allow,
    deny_list: settings.deny,
    description: settings.description,
  }
}

/**
 * PostgreSQL's "no such table" as the error a user can act on: the migration has not run, or
 * backendkit.json names another table than the service's.
 */
async function onTables<T>(tables: FlagTables, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if ((error as { code?: unknown }).code === '42P01') {
      throw new BackendkitError(
        `The flags table ${tables.table} (or its history) does not exist.`,
        {
          hint: 'Run `backendkit migrate up` (the flags recipe creates it), or check flags.table in backendkit.json.',
          code: 'E_NO_FLAGS_TABLE',
          cause: error,
        },
      )
    }
    throw error
  }
}

export function listFlags(db: Db, tables: FlagTables): Promise<FlagView[]> {
  return onTables(tables, async () => {
    const rows = await db.selectFrom(tables.table).selectAll().orderBy('name').execute()
    return (rows as FlagRow[]).map(toView)
  })
}

export function readFlag(db: Db, tables: FlagTables, name: string): Promise<FlagView | null> {
  return onTables(tables, async () => {
    const row = await db
      .selectFrom(tables.table)
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst()
    return row ? toView(row as FlagRow) : null
  })
}

async function lockFlag(trx: Trx, tables: FlagTables, name: string): Promise<FlagView | null> {
  const row = await trx
    .selectFrom(tables.table)
    .selectAll()
    .where('name', '=', name)
    .forUpdate()
    .executeTakeFirst()
  return row ? toView(row as FlagRow) : null
}

async function record(
  trx: Trx,
  tables: FlagTables,
  entry: { flag: string; action: HistoryAction; actor: string },
  before: FlagSettings | null,
  after: FlagSettings | null,
): Promise<{ id: number; at: string }> {
  const row: { id: string; changed_at: Date } = await trx
    .insertInto(tables.history)
    .values({
      ...entry,
      before: before && JSON.stringify(settingsOf(before)),
      after: after && JSON.stringify(settingsOf(after)),
    })
    .returning(['id', 'changed_at'])
    .executeTakeFirstOrThrow()
  return { id: Number(row.id), at: row.changed_at.toISOString() }
}

export interface WriteResult {
  action: 'create' | 'update' | 'unchanged'
  before: FlagView | null
  after: FlagView
  historyId: number | null
}

export class UnknownFlagError extends BackendkitError {
  constructor(name: string) {
    super(`There is no flag named ${name}.`, {
      hint: 'Pass --create to create it, or check the name with `backendkit flags list`.',
      code: 'E_UNKNOWN_FLAG',
    })
  }
}

/**
 * Applies `change` to the flag (creating it when `create` allows) and records the change, in one
 * transaction holding the flag's row lock. The change is applied to the row as it is once locked,
 * so a concurrent change is never overwritten unrecorded. A change that changes nothing is not
 * written or recorded.
 */
export function writeFlag(
  db: Db,
  tables: FlagTables,
  name: string,
  change: FlagChange,
  options: { actor: string; create: boolean },
): Promise<WriteResult> {
  const { actor } = options
  return onTables(tables, () =>
    db.transaction().execute(async (trx): Promise<WriteResult> => {
      let current = await lockFlag(trx, tables, name)
      if (!current) {
        if (!options.create) throw new UnknownFlagError(name)
        const settings = applyChange(null, change)
        const inserted = await trx
          .insertInto(tables.table)
          .values({ name, ...toColumns(settings), updated_by: actor })
          .onConflict((conflict) => conflict.column('name').doNothing())
          .returningAll()
          .executeTakeFirst()
        if (inserted) {
          const { id } = await record(
            trx,
            tables,
            { flag: name, action: 'create', actor },
            null,
            settings,
          )
          return {
            action: 'create',
            before: null,
            after: toView(inserted as FlagRow),
            historyId: id,
          }
        }
        // A concurrent `set --create` made it first: change it as it is now.
        current = await lockFlag(trx, tables, name)
        if (!current) throw new UnknownFlagError(name)
      }
      const settings = applyChange(current, change)
      if (diffSettings(current, settings).length === 0) {
        return { action: 'unchanged', before: current, after: current, historyId: null }
      }
      const updated = await trx
        .updateTable(tables.table)
        .set({ ...toColumns(settings), updated_at: sql`now()`, updated_by: actor })
        .where('name', '=', name)
        .returningAll()
        .executeTakeFirstOrThrow()
      const { id } = await record(
        trx,
        tables,
        { flag: name, action: 'update', actor },
        current,
        settings,
      )
      return { action: 'update', before: current, after: toView(updated as FlagRow), historyId: id }
    }),
  )
}

/** Deletes the flag and records it, in one transaction; `before` is null when there was none. */
export function deleteFlag(
  db: Db,
  tables: FlagTables,
  name: string,
  actor: string,
): Promise<{ before: FlagView | null; historyId: number | null; at: string | null }> {
  return onTables(tables, () =>
    db.transaction().execute(async (trx) => {
      const current = await lockFlag(trx, tables, name)
      if (!current) return { before: null, historyId: null, at: null }
      await trx.deleteFrom(tables.table).where('name', '=', name).execute()
      const { id, at } = await record(
        trx,
        tables,
        { flag: name, action: 'delete', actor },
        current,
        null,
      )
      return { before: current, historyId: id, at }
    }),
  )
}

/** The flag's changes, newest first (a deleted flag's too). */
export function readHistory(
  db: Db,
  tables: FlagTables,
  name: string,
  limit: number,
): Promise<HistoryEntry[]> {
  return onTables(tables, async () => {
    const rows: {
      id: string
      action: HistoryAction
      actor: string
      changed_at: Date
      before: FlagSettings | null
      after: FlagSettings | null
    }[] = await db
      .selectFrom(tables.history)
      .select(['id', 'action', 'actor', 'changed_at', 'before', 'after'])
      .where('flag', '=', name)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute()
    return rows.map((row) => ({
      id: Number(row.id),
      action: row.action,
      actor: row.actor,
      at: row.changed_at.toISOString(),
      before: row.before,
      after: row.after,
    }))
  })
}
