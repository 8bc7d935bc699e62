import type { ColumnType } from 'kysely'

/** What a command records next to its events: who and which request (for audit and tracing). */
export interface EventMetadata {
  actorId?: string
  requestId?: string
}

export interface EventsTable {
  /** bigint: pg returns it as a string. */
  position: ColumnType<string, never, never>
  stream_id: string
  stream_type: string
  version: number
  type: string
  /** jsonb, written as JSON text. */
  data: ColumnType<unknown, string, never>
  metadata: ColumnType<EventMetadata, string | undefined, never>
  /** xid8, as a decimal string. */
  transaction_id: ColumnType<string, never, never>
  recorded_at: ColumnType<Date, never, never>
}

export interface SnapshotsTable {
  stream_id: string
  version: number
  schema_version: number
  state: ColumnType<unknown, string, string>
  taken_at: ColumnType<Date, never, Date>
}

export interface ProjectionCheckpointsTable {
  name: string
  transaction_id: string
  position: string
  updated_at: ColumnType<Date, Date | undefined, Date>
}

declare module '../db/schema.js' {
  interface Database {
    events: EventsTable
    snapshots: SnapshotsTable
    projection_checkpoints: ProjectionCheckpointsTable
  }
}
