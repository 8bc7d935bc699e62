import { type Kysely, sql } from 'kysely'
import type { Db } from '../db/database.js'
import type { Database } from '../db/schema.js'

/** The NOTIFY channel announcing "this user's version changed (or the user is gone)". */
const channel = 'auth_token_versions'
const maxEntries = 10_000

/**
 * Each user's token version: a counter bumped whenever every session of that user must end
 * (password or role change, logout everywhere, deletion). Access tokens carry the version they
 * were issued with, and a token whose version is no longer current is refused at once, on every
 * instance, not when it expires 15 minutes later.
 *
 * Checking costs no I/O on a hit: versions are read from the primary and kept in process. The
 * change is announced by NOTIFY in the transaction that makes it, and every instance LISTENs and
 * forgets that user. While the listener is not connected nothing is cached, so a missed
 * notification can never keep a revoked token alive.
 */
export class TokenVersions {
  /** user id → version; null: no such user. */
  private readonly cache = new Map<string, number | null>()
  /** Bumped by every invalidation: a read that raced one must not be cached. */
  private epoch = 0

  constructor(private readonly db: Db) {}

  /** Starts listening for changes (in the background if the database is down). */
  async start(): Promise<void> {
    await this.db.notifications.listen(channel, {
      message: (userId) => this.forget(userId),
      reset: () => this.forget(),
    })
  }

  /** The current version of a user's tokens; undefined when the user does not exist. */
  async current(userId: string): Promise<number | undefined> {
    const cached = this.cache.get(userId)
    if (cached !== undefined) return cached ?? undefined
    const epoch = this.epoch
    const row = await this.db.write
      .selectFrom('users')
      .select('token_version')
      .where('id', '=', userId)
      .executeTakeFirst()
    const version = row?.token_version ?? null
    if (epoch === this.epoch && this.db.notifications.connected) this.remember(userId, version)
    return version ?? undefined
  }

  /**
   * Ends every access token of the user (call inside the transaction that changes the password,
   * the role or deletes the user): the version moves on, and every instance hears it at commit.
   */
  async bump(userId: string, trx: Kysely<Database>): Promise<void> {
    await trx
      .updateTable('users')
      .set((eb) => ({ token_version: eb('token_version', '+', 1) }))
      .where('id', '=', userId)
      .execute()
    await sql`select pg_notify(${channel}, ${userId})`.execute(trx)
    // This instance forgets now; every instance (this one too) forgets again at commit.
    this.forget(userId)
  }

  private remember(userId: string, version: number | null): void {
    if (this.cache.size >= maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.cache.keys().next().value
      if (oldest !== undefined) this.cache.delete(oldest)
    }
    this.cache.set(userId, version)
  }

  private forget(userId?: string): void {
    this.epoch++
    if (userId === undefined) this.cache.clear()
    else this.cache.delete(userId)
  }
}
