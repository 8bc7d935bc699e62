import type { ColumnType } from 'kysely'
import type { Db } from '../db/database.js'
import type { ConsumerDefinition } from '../queues/broker.js'

export interface EventLogTable {
  /** The message id: a message delivered twice is recorded once. */
  event_id: string
  name: string
  payload: ColumnType<unknown, string, never>
  occurred_at: ColumnType<Date, string, never>
  request_id: string | null
  received_at: ColumnType<Date, never, never>
}

declare module '../db/schema.js' {
  interface Database {
    event_log: EventLogTable
  }
}

/**
 * A RabbitMQ consumer keeping an audit trail of every domain event (`event_log`): what happened,
 * when, and which request caused it. Redeliveries (a consumer died holding the message, or a
 * retry after a failure) are recorded once, keyed by the event's id.
 */
export function eventLogConsumer(db: Db): ConsumerDefinition {
  return {
    name: 'event-log',
    bindings: ['#'],
    async handle(event) {
      await db.write
        .insertInto('event_log')
        .values({
          event_id: event.id,
          name: event.name,
          payload: JSON.stringify(event.payload ?? null),
          occurred_at: event.occurredAt,
          request_id: event.requestId ?? null,
        })
        .onConflict((oc) => oc.column('event_id').doNothing())
        .execute()
    },
  }
}
