import type { Kysely } from 'kysely'
import type { Db } from '../db/database.js'
import type { Database } from '../db/schema.js'
import type { EventMetadata } from './schema.js'
import './schema.js'

/** An event to append: its type and its data (JSON). */
export interface NewEvent<Type extends string = string, Data = unknown> {
  type: Type
  data: Data
}

/** An event as the log holds it. */
export interface RecordedEvent<Type extends string = string, Data = unknown>
  extends NewEvent<Type, Data> {
  /** Where it stands in the whole log (a bigint, as a string). */
  position: string
  streamId: string
  streamType: string
  /** Its place in its stream: 1, 2, 3… with no gap. */
  version: number
  metadata: EventMetadata
  /** The transaction that wrote it (xid8, as a string): projections read in this order. */
  transactionId: string
  recordedAt: Date
}

/** Another writer appended to the stream first: reload it and decide again. */
export class ConcurrencyError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
  ) {
    super(`stream ${streamId} moved past version ${expectedVersion}`)
    this.name = 'ConcurrencyError'
  }
}

/** Every column; pg returns bigint and xid8 as strings, exactly (never a rounded number). */
export const eventColumns = [
  'position',
  'stream_id',
  'stream_type',
  'version',
  'type',
  'data',
  'metadata',
  'transaction_id',
  'recorded_at',
] as const

type EventRow = {
  position: string
  stream_id: string
  stream_type: string
  version: number
  type: string
  data: unknown
  metadata: EventMetadata
  transaction_id: string
  recorded_at: Date
}

export const toRecordedEvent = (row: EventRow): RecordedEvent => ({
  position: row.position,
  streamId: row.stream_id,
  streamType: row.stream_type,
  version: row.version,
  type: row.type,
  data: row.data,
  metadata: row.metadata,
  transactionId: row.transaction_id,
  recordedAt: row.recorded_at,
})

/**
 * The append-only event log: one table for every stream, where `(stream_id, version)` is unique.
 * A writer appends after the version it decided on; if another writer appended that version
 * first, the database refuses the insert and the writer gets a {@link ConcurrencyError}: it
 * reloads the stream and decides again on the new state. No lock is held between reading and
 * writing, and no update is ever lost.
 */
export class EventStore {
  constructor(private readonly db: Db) {}

  /**
   * Appends `events` to the stream, right after `expectedVersion` (0 for a new stream), inside
   * `trx`; throws ConcurrencyError when the stream has moved on.
   */
  async append(
    trx: Kysely<Database>,
    stream: { id: string; type: string },
    expectedVersion: number,
    events: readonly NewEvent[],
    metadata: EventMetadata = {},
  ): Promise<RecordedEvent[]> {
    try {
      const rows = await trx
        .insertInto('events')
        .values(
          events.map((event, index) => ({
            stream_id: stream.id,
            stream_type: stream.type,
            version: expectedVersion + index + 1,
            type: event.type,
            data: JSON.stringify(event.data),
            metadata: JSON.stringify(metadata),
          })),
        )
        .returning(eventColumns)
        .execute()
      return rows.map(toRecordedEvent)
    } catch (error) {
      const { code, constraint } = error as { code?: string; constraint?: string }
      if (code === '23505' && constraint === 'events_stream_version') {
        throw new ConcurrencyError(stream.id, expectedVersion)
      }
      throw error
    }
  }

  /** The stream's events after `afterVersion`, in order (from the primary: the latest state). */
  async readStream(streamId: string, afterVersion = 0): Promise<RecordedEvent[]> {
    const rows = await this.db.write
      .selectFrom('events')
      .select(eventColumns)
      .where('stream_id', '=', streamId)
      .where('version', '>', afterVersion)
      .orderBy('version')
      .execute()
    return rows.map(toRecordedEvent)
  }
}
