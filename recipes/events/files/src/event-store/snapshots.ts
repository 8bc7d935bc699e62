import { type Kysely, sql } from 'kysely'
import type { Db } from '../db/database.js'
import type { Database } from '../db/schema.js'
import './schema.js'

export interface Snapshot<State> {
  version: number
  state: State
}

/**
 * A stream's state at one version, so that loading it replays only the events after that
 * version instead of all of them. A snapshot is a cache of a replay, never a source of truth:
 * each carries the `schemaVersion` of its state's shape, and one of another shape is ignored
 * (the stream is replayed from the start, and the next snapshot replaces it).
 */
export class Snapshots {
  constructor(private readonly db: Db) {}

  async load<State>(streamId: string, schemaVersion: number): Promise<Snapshot<State> | undefined> {
    const row = await this.db.write
      .selectFrom('snapshots')
      .select(['version', 'state'])
      .where('stream_id', '=', streamId)
      .where('schema_version', '=', schemaVersion)
      .executeTakeFirst()
    return row && { version: row.version, state: row.state as State }
  }

  /** Saves it inside `trx` (with the event that reached it), unless a later one is there. */
  async save<State>(
    trx: Kysely<Database>,
    streamId: string,
    schemaVersion: number,
    snapshot: Snapshot<State>,
  ): Promise<void> {
    const values = {
      stream_id: streamId,
      version: snapshot.version,
      schema_version: schemaVersion,
      state: JSON.stringify(snapshot.state),
      taken_at: new Date(),
    }
    await trx
      .insertInto('snapshots')
      .values(values)
      .onConflict((conflict) =>
        conflict
          .column('stream_id')
          .doUpdateSet(values)
          .where(
            sql<boolean>`snapshots.version < excluded.version or snapshots.schema_version <> excluded.schema_version`,
          ),
      )
      .execute()
  }
}
