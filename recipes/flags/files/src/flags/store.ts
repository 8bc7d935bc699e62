import type { Redis } from 'ioredis'
import { type Kysely, sql } from 'kysely'
import type { Database } from '../db/schema.js'
import type { Logger } from '../lib/logger.js'
import { type Evaluation, type FlagRule, FlagSet, type FlagUser } from './evaluate.js'

/** The columns evaluation needs, as PostgreSQL returns them (text[] arrives as an array). */
interface FlagRow {
  name: string
  enabled: boolean
  percentage: number
  allow_list: string[]
  deny_list: string[]
}

export interface FlagStoreOptions {
  /** The primary: a refresh right after a change must see it (a replica may lag). */
  db: Kysely<Database>
  /** backendkit.json `flags.table`, the table `backendkit flags` writes. */
  table: string
  /** A connection of its own: a subscribed connection can run nothing else. */
  subscriber: Redis
  /** backendkit.json `flags.channel`, where `backendkit flags` announces every change. */
  channel: string
  /** The fallback: how often the flags are read again whatever was (or was not) announced. */
  pollIntervalMs: number
  logger: Logger
}

/**
 * The feature flags, held in memory by every instance: `isEnabled` and `evaluate` do no I/O.
 * The whole table is read again when a change is announced on the Redis channel (within
 * milliseconds), after the subscriber reconnects (announcements may have been missed), and every
 * `pollIntervalMs` in any case, so a lost announcement or a Redis outage delays a change but
 * never loses it. While PostgreSQL cannot be read, the last flags read keep serving.
 *
 * @example if (flags.isEnabled('new-checkout', req.user)) return newCheckout(req, res)
 */
export class FlagStore {
  #flags = new FlagSet()
  #loaded = false
  #refreshing: Promise<void> | undefined
  #again = false
  #failing = false
  #timer: NodeJS.Timeout | undefined
  readonly #listeners = new Set<(changed: string[]) => void>()
  readonly #options: FlagStoreOptions

  constructor(options: FlagStoreOptions) {
    this.#options = options
  }

  /** Reads the flags once (a failure is logged, not thrown), then listens and polls. */
  async start(): Promise<void> {
    const { subscriber, channel, pollIntervalMs, logger } = this.#options
    await this.refresh()
    subscriber.on('message', this.#onMessage)
    // The first connection, and every reconnection: announcements sent meanwhile were lost.
    subscriber.on('ready', this.#onReconnect)
    subscriber.subscribe(channel).catch((error: unknown) => {
      logger.warn({ err: error, channel }, 'cannot subscribe to flag changes; polling only')
    })
    this.#timer = setInterval(() => void this.refresh(), pollIntervalMs)
    this.#timer.unref()
  }

  isEnabled(name: string, user?: FlagUser): boolean {
    return this.#flags.isEnabled(name, user)
  }

  /** On or off, and why: `deny`, `allow`, `percentage`, `off` or `unknown`. */
  evaluate(name: string, user?: FlagUser): Evaluation {
    return this.#flags.evaluate(name, user)
  }

  /** Every flag, on or off for this user (what GET /api/flags answers). */
  evaluateAll(user?: FlagUser): Record<string, boolean> {
    return this.#flags.evaluateAll(user)
  }

  /** The names of every flag known to this instance. */
  names(): string[] {
    return this.#flags.names()
  }

  /** Calls `listener` with the names of the flags a refresh changed; returns the unsubscribe. */
  onChange(listener: (changed: string[]) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Reads the table again. Calls while a read is in flight share it and cause one more read after
   * it, so a change committed during a read is never missed, and reads never overlap (an older
   * read cannot overwrite a newer one). Never rejects.
   */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true
      return this.#refreshing
    }
    const run = async () => {
      do {
        this.#again = false
        await this.#load()
      } while (this.#again)
    }
    this.#refreshing = run().finally(() => {
      this.#refreshing = undefined
    })
    return this.#refreshing
  }

  /** Readiness: the flags were read at least once (else every flag would answer off). */
  async ready(): Promise<void> {
    if (!this.#loaded) await this.refresh()
    if (!this.#loaded) throw new Error('the feature flags have not been read yet')
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#options.subscriber.off('message', this.#onMessage)
    this.#options.subscriber.off('ready', this.#onReconnect)
    this.#listeners.clear()
    await this.#refreshing
  }

  readonly #onMessage = (channel: string) => {
    if (channel === this.#options.channel) void this.refresh()
  }

  readonly #onReconnect = () => {
    void this.refresh()
  }

  async #load(): Promise<void> {
    const { db, table, logger } = this.#options
    try {
      const { rows } = await sql<FlagRow>`
        select name, enabled, percentage, allow_list, deny_list from ${sql.table(table)}
      `.execute(db)
      const next = new FlagSet(rows.map(toRule))
      const changed = next.changedSince(this.#flags)
      this.#flags = next
      this.#loaded = true
      if (this.#failing) {
        this.#failing = false
        logger.info('feature flags readable again')
      }
      if (changed.length > 0) {
        logger.debug({ flags: changed }, 'feature flags changed')
        for (const listener of this.#listeners) listener(changed)
      }
    } catch (error) {
      // Logged when the outage begins, not on every poll; the flags in memory keep serving.
      if (this.#failing) return
      this.#failing = true
      const missing = (error as { code?: unknown }).code === '42P01'
      logger.warn(
        { err: error, table },
        missing
          ? `table ${table} does not exist: run \`npx backendkit migrate up\``
          : 'cannot read the feature flags; serving the last known ones',
      )
    }
  }
}

function toRule(row: FlagRow): FlagRule {
  return {
    name: row.name,
    enabled: row.enabled,
    percentage: row.percentage,
    allow: row.allow_list,
    deny: row.deny_list,
  }
}
