import { type ColumnType, type Generated, type Selectable, sql } from 'kysely'
import type { Db } from '../db/database.js'
import type { EventBus } from '../lib/events.js'
import type { Logger } from '../lib/logger.js'
import type { Drainable } from '../lib/shutdown.js'

export interface OutboxTable {
  /** Insertion order: each target dispatches in this order. */
  id: Generated<string>
  /** The event's own id: the job id of its follow-ups and the broker's message id. */
  event_id: Generated<string>
  name: string
  payload: ColumnType<unknown, string, never>
  occurred_at: ColumnType<Date, string, never>
  request_id: string | null
  created_at: ColumnType<Date, never, never>
  /** When its jobs (notification, webhook) were added to BullMQ. */
  queued_at: ColumnType<Date | null, never, Date>
  /** When the broker confirmed it. */
  published_at: ColumnType<Date | null, never, Date>
  /** Why the last dispatch failed, for whoever looks at a stuck row. */
  last_error: ColumnType<string | null, never, string | null>
}

declare module '../db/schema.js' {
  interface Database {
    outbox: OutboxTable
  }
}

/** An event as the outbox stores and dispatches it. */
export interface StoredEvent {
  id: string
  name: string
  payload: unknown
  occurredAt: string
  requestId?: string
}

/** NOTIFY'd by a trigger on every insert into the outbox (see the migration). */
export const OUTBOX_CHANNEL = 'outbox'

/**
 * Records every domain event in the outbox table, right after the change it reports committed.
 * The request then answers; the worker's {@link OutboxRelay} turns the row into jobs and broker
 * messages, retrying while Redis or RabbitMQ is down, so their outages lose nothing and never
 * fail a request that already changed data. What is not covered: the process dying in the
 * instant between the change's commit and this insert (the emitting code would have to write the
 * row in its own transaction), and PostgreSQL failing this insert (logged at error).
 */
export function recordEventsInOutbox(events: EventBus, db: Db, logger: Logger): () => void {
  return events.onAny(async (event) => {
    try {
      await db.write
        .insertInto('outbox')
        .values({
          name: event.name,
          payload: JSON.stringify(event.payload),
          occurred_at: event.occurredAt,
          request_id: event.requestId ?? null,
        })
        .execute()
    } catch (error) {
      logger.error(
        { err: error, event: event.name },
        'event not recorded in the outbox: its jobs and broker message are lost',
      )
    }
  })
}

/** One place events go: BullMQ (the jobs they cause), or the broker. */
export interface OutboxTarget {
  /** Also the name of the advisory lock that makes one instance at a time dispatch it. */
  name: string
  /** The column set once the target has taken the event. */
  column: 'queued_at' | 'published_at'
  dispatch(event: StoredEvent): Promise<void>
  /** Errors that will never go away (invalid data): the row is set aside, not retried. */
  isPermanent?(error: unknown): boolean
}

export interface RelayOptions {
  batchSize?: number
  /** How often the outbox is read when no NOTIFY came (a missed one, another instance's lock). */
  pollMs?: number
}

type Row = Selectable<OutboxTable>

const toEvent = (row: Row): StoredEvent => ({
  id: row.event_id,
  name: row.name,
  payload: row.payload,
  occurredAt: row.occurred_at.toISOString(),
  ...(row.request_id ? { requestId: row.request_id } : {}),
})

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error))

/**
 * Moves outbox rows to their targets, in the worker. Each target has its own loop and column, so
 * RabbitMQ being down delays broker messages only, never notifications. A loop takes a
 * transaction-scoped advisory lock (one instance dispatches a target at a time, in insertion
 * order), reads the next rows the target has not taken, dispatches them and marks them, woken
 * by NOTIFY on each insert and polling as a fallback; a target that fails is retried with
 * backoff. Delivery is at least once: a crash between a dispatch and the commit repeats it, so
 * job ids (BullMQ adds a job id once) and message ids (consumers deduplicate) are the event's id.
 */
export class OutboxRelay implements Drainable {
  private running = false
  private readonly loops: Promise<void>[] = []
  private readonly wakers = new Set<(force: boolean) => void>()
  private readonly batchSize: number
  private readonly pollMs: number

  constructor(
    private readonly db: Db,
    private readonly targets: readonly OutboxTarget[],
    private readonly logger: Logger,
    options: RelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 100
    this.pollMs = options.pollMs ?? 1_000
  }

  async start(): Promise<void> {
    this.running = true
    const wake = () => this.wake()
    await this.db.notifications.listen(OUTBOX_CHANNEL, { message: wake, reset: wake })
    for (const target of this.targets) this.loops.push(this.loop(target))
  }

  /** Dispatch now (a row was inserted); a target failing and backing off keeps waiting. */
  wake(): void {
    for (const wake of this.wakers) wake(false)
  }

  /** Try every target now, even one backing off: a broker it needs is reachable again. */
  retryNow(): void {
    for (const wake of this.wakers) wake(true)
  }

  async drain(): Promise<void> {
    this.running = false
    this.wake()
    await Promise.all(this.loops)
  }

  abort(): void {
    this.running = false
    this.wake()
  }

  private async loop(target: OutboxTarget): Promise<void> {
    let failures = 0
    while (this.running) {
      let more = false
      try {
        more = await this.dispatchBatch(target)
        if (failures > 0) this.logger.info({ target: target.name }, 'outbox dispatching again')
        failures = 0
      } catch (error) {
        failures++
        if (failures === 1) {
          this.logger.warn(
            { err: error, target: target.name },
            'outbox dispatch failed; retrying with backoff (the events wait in PostgreSQL)',
          )
        }
      }
      if (more && failures === 0) continue
      const backoff = Math.min(this.pollMs * 2 ** (failures - 1), 30_000)
      await this.sleep(failures > 0 ? backoff : this.pollMs, failures === 0)
    }
  }

  /** Resolves after `ms`, or earlier on wake() when `wakeable`, or when the relay stops. */
  private sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wakers.delete(early)
        resolve()
      }
      const early = (force: boolean) => {
        if (force || wakeable || !this.running) done()
      }
      const timer = setTimeout(done, ms)
      this.wakers.add(early)
    })
  }

  /** One batch for one target; true when there may be more right away. Throws when it failed. */
  private async dispatchBatch(target: OutboxTarget): Promise<boolean> {
    // The failure is thrown after the commit, which keeps what was dispatched before it.
    const { more, failure } = await this.db.write.transaction().execute(async (trx) => {
      const lock = await sql<{ locked: boolean }>`
        select pg_try_advisory_xact_lock(hashtext(${`outbox:${target.name}`})) as locked
      `.execute(trx)
      if (!lock.rows[0]?.locked) return { more: false, failure: undefined }
      const rows = await trx
        .selectFrom('outbox')
        .selectAll()
        .where(target.column, 'is', null)
        .orderBy('id')
        .limit(this.batchSize)
        .execute()
      const done: string[] = []
      const setAside: { id: string; error: string }[] = []
      let failure: unknown
      for (const row of rows) {
        try {
          await target.dispatch(toEvent(row))
          done.push(row.id)
        } catch (error) {
          if (target.isPermanent?.(error)) {
            setAside.push({ id: row.id, error: describe(error) })
            this.logger.error({ err: error, eventId: row.event_id }, 'outbox event set aside')
            continue
          }
          failure = error
          await trx
            .updateTable('outbox')
            .set({ last_error: `${target.name}: ${describe(error)}` })
            .where('id', '=', row.id)
            .execute()
          break // the target is down: the rest would fail the same way, in order
        }
      }
      if (done.length > 0) {
        await trx
          .updateTable('outbox')
          .set({ [target.column]: new Date(), last_error: null })
          .where('id', 'in', done)
          .execute()
      }
      for (const { id, error } of setAside) {
        await trx
          .updateTable('outbox')
          .set({ [target.column]: new Date(), last_error: `set aside: ${error}` })
          .where('id', '=', id)
          .execute()
      }
      return { more: rows.length === this.batchSize, failure }
    })
    if (failure !== undefined) throw failure
    return more
  }
}
