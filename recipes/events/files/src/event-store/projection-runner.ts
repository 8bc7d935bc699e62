import { type Kysely, sql } from 'kysely'
import type { Db } from '../db/database.js'
import type { Database } from '../db/schema.js'
import type { Logger } from '../lib/logger.js'
import { eventColumns, type RecordedEvent, toRecordedEvent } from './store.js'

/**
 * A read model kept up to date from the event log. `apply` receives the events in log order, in
 * batches, inside the transaction that also moves the projection's checkpoint: each event is
 * applied exactly once, and a crash half way leaves both where they were.
 */
export interface Projection {
  /** Also the key of its checkpoint: renaming it rebuilds it from the start. */
  name: string
  apply(trx: Kysely<Database>, events: readonly RecordedEvent[]): Promise<void>
  /** Empties the read model, before a rebuild replays the whole log into it. */
  reset(trx: Kysely<Database>): Promise<void>
}

/** How far a projection has read: the last event applied, in (transaction, position) order. */
export interface Checkpoint {
  transactionId: bigint
  position: bigint
}

const start: Checkpoint = { transactionId: 0n, position: 0n }

/** Whether the event is at or before the checkpoint (already applied). */
export const reached = (checkpoint: Checkpoint, event: RecordedEvent) => {
  const transactionId = BigInt(event.transactionId)
  return (
    transactionId < checkpoint.transactionId ||
    (transactionId === checkpoint.transactionId && BigInt(event.position) <= checkpoint.position)
  )
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface ProjectionRunnerOptions {
  logger: Logger
  /** Events per transaction. */
  batchSize?: number
}

/**
 * Runs one projection: reads the events after its checkpoint, applies them and moves the
 * checkpoint, in one transaction per batch.
 *
 * The order that cannot miss an event: positions come from a sequence, so a transaction that
 * took position 101 may commit before the one that took 100; reading "after 100" would then
 * skip 100 for ever. So the log is read in the order of the writing transactions' ids, and only
 * up to the oldest transaction still running anywhere (`pg_snapshot_xmin`): every transaction
 * below it has finished, so nothing can appear behind the checkpoint later. An event written by
 * a transaction still running is simply read by a later batch. (A long transaction elsewhere in
 * the cluster delays the projection; it never makes it skip.)
 *
 * Instances take turns through a transaction-level advisory lock per projection, so two never
 * apply the same batch. `catchUp()` runs after each local command; `start()` also polls, for
 * events written by other instances and for those a catch-up had to leave to a later batch.
 */
export class ProjectionRunner {
  private readonly batchSize: number
  private current: Promise<void> | undefined
  private next: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private failing = false
  /** The checkpoint as this instance last saw it. */
  checkpoint: Checkpoint = start

  constructor(
    private readonly db: Db,
    readonly projection: Projection,
    private readonly options: ProjectionRunnerOptions,
  ) {
    this.batchSize = options.batchSize ?? 500
  }

  /**
   * Applies every event that can be applied now. Calls made while a run is under way share the
   * one run that starts after it, so an event committed before the call is always looked at.
   */
  catchUp(): Promise<void> {
    if (!this.current) {
      this.current = this.runBatches().finally(() => {
        this.current = undefined
      })
      return this.current
    }
    this.next ??= this.current
      .catch(() => {})
      .then(() => {
        this.next = undefined
        return this.catchUp()
      })
    return this.next
  }

  /**
   * Resolves true once the projection has applied `event` (the read model shows it), false if
   * that takes longer than `timeoutMs` (a long transaction elsewhere holds the log back).
   */
  async waitFor(event: RecordedEvent, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
      if (reached(this.checkpoint, event)) return true
      await this.catchUp().catch((error: unknown) => this.reportFailure(error))
      if (reached(this.checkpoint, event)) return true
      if (Date.now() >= deadline) return false
      await sleep(pause)
    }
  }

  /** Polls every `intervalMs` (errors are logged once per outage, then retried). */
  start(intervalMs: number): void {
    const poll = async () => {
      await this.catchUp().then(
        () => this.recovered(),
        (error: unknown) => this.reportFailure(error),
      )
      if (this.timer) this.timer = setTimeout(poll, intervalMs).unref()
    }
    this.timer = setTimeout(poll, 0).unref()
  }

  /** Stops polling and waits for a run under way. */
  async stop(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    await Promise.allSettled([this.current, this.next])
  }

  /**
   * Empties the read model and replays the whole log into it, in one transaction: readers see
   * the old read model until the new one is complete. Returns how many events were replayed.
   */
  async rebuild(): Promise<number> {
    return this.db.write.transaction().execute(async (trx) => {
      await this.lock(trx)
      await this.projection.reset(trx)
      let checkpoint = start
      let replayed = 0
      for (;;) {
        const events = await this.readAfter(trx, checkpoint)
        if (events.length === 0) break
        await this.projection.apply(trx, events)
        checkpoint = this.checkpointOf(events)
        replayed += events.length
      }
      await this.saveCheckpoint(trx, checkpoint)
      this.checkpoint = checkpoint
      return replayed
    })
  }

  private async runBatches(): Promise<void> {
    while ((await this.runBatch()) === this.batchSize) {
      // a full batch: there may be more
    }
  }

  private runBatch(): Promise<number> {
    return this.db.write.transaction().execute(async (trx) => {
      await this.lock(trx)
      const saved = await trx
        .selectFrom('projection_checkpoints')
        .select(['transaction_id', 'position'])
        .where('name', '=', this.projection.name)
        .executeTakeFirst()
      const checkpoint = saved
        ? { transactionId: BigInt(saved.transaction_id), position: BigInt(saved.position) }
        : start
      this.checkpoint = checkpoint
      const events = await this.readAfter(trx, checkpoint)
      if (events.length === 0) return 0
      await this.projection.apply(trx, events)
      const last = this.checkpointOf(events)
      await this.saveCheckpoint(trx, last)
      this.checkpoint = last
      return events.length
    })
  }

  /**
   * One projection at a time across instances. An advisory lock, not a row lock: locking a row
   * would give this transaction an id, which would hold back the very horizon it reads up to.
   */
  private async lock(trx: Kysely<Database>): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`projection:${this.projection.name}`}, 0))`.execute(
      trx,
    )
  }

  private async readAfter(trx: Kysely<Database>, after: Checkpoint): Promise<RecordedEvent[]> {
    const rows = await trx
      .selectFrom('events')
      .select(eventColumns)
      .where(
        sql<boolean>`(transaction_id, position) > (${after.transactionId.toString()}::xid8, ${after.position.toString()}::bigint)`,
      )
      .where(sql<boolean>`transaction_id < pg_snapshot_xmin(pg_current_snapshot())`)
      .orderBy('transaction_id')
      .orderBy('position')
      .limit(this.batchSize)
      .execute()
    return rows.map(toRecordedEvent)
  }

  private checkpointOf(events: readonly RecordedEvent[]): Checkpoint {
    const last = events[events.length - 1] as RecordedEvent
    return { transactionId: BigInt(last.transactionId), position: BigInt(last.position) }
  }

  private async saveCheckpoint(trx: Kysely<Database>, checkpoint: Checkpoint): Promise<void> {
    const values = {
      name: this.projection.name,
      transaction_id: checkpoint.transactionId.toString(),
      position: checkpoint.position.toString(),
      updated_at: new Date(),
    }
    await trx
      .insertInto('projection_checkpoints')
      .values(values)
      .onConflict((conflict) => conflict.column('name').doUpdateSet(values))
      .execute()
  }

  private reportFailure(error: unknown): void {
    if (this.failing) return
    this.failing = true
    this.options.logger.warn(
      { err: error, projection: this.projection.name },
      'projection cannot catch up; retrying',
    )
  }

  private recovered(): void {
    if (!this.failing) return
    this.failing = false
    this.options.logger.info({ projection: this.projection.name }, 'projection catching up again')
  }
}
