import pg from 'pg'
import type { Logger } from '../lib/logger.js'

export interface NotificationHandlers {
  /** A NOTIFY on the channel, with its payload. */
  message(payload: string): void
  /**
   * Notifications may have been missed (the connection dropped, or has just been made): forget
   * whatever they would have invalidated.
   */
  reset(): void
}

/**
 * PostgreSQL LISTEN/NOTIFY on one dedicated connection, reconnected with backoff, so each
 * instance hears about changes committed by any other (NOTIFY is delivered at commit). It needs a
 * direct connection: behind PgBouncer in transaction mode notifications are lost.
 */
export class Notifications {
  private readonly channels = new Map<string, NotificationHandlers>()
  private client: pg.Client | undefined
  private connecting: Promise<void> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private failures = 0
  private stopped = false

  constructor(
    private readonly connectionString: string,
    private readonly logger: Logger,
  ) {}

  /** True while notifications are being received (what was cached meanwhile can be trusted). */
  get connected(): boolean {
    return this.client !== undefined
  }

  /** Starts listening on `channel`; connects on first use. */
  async listen(channel: string, handlers: NotificationHandlers): Promise<void> {
    this.channels.set(channel, handlers)
    if (this.client) {
      await this.client.query(`listen ${pg.escapeIdentifier(channel)}`)
      return
    }
    await this.connect()
  }

  private connect(): Promise<void> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined
    })
    return this.connecting
  }

  private async open(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: 'app:listen',
    })
    client.on('notification', ({ channel, payload }) => {
      this.channels.get(channel)?.message(payload ?? '')
    })
    client.on('error', (error) => this.lost(client, error))
    client.on('end', () => this.lost(client))
    try {
      await client.connect()
      for (const channel of this.channels.keys()) {
        await client.query(`listen ${pg.escapeIdentifier(channel)}`)
      }
    } catch (error) {
      client.removeAllListeners('end')
      await client.end().catch(() => {})
      this.scheduleRetry(error)
      return
    }
    this.client = client
    if (this.failures > 0) this.logger.info('listening for database notifications again')
    this.failures = 0
    // Anything committed before LISTEN took effect was not heard.
    for (const handlers of this.channels.values()) handlers.reset()
  }

  private lost(client: pg.Client, error?: Error): void {
    if (this.client !== client) return
    this.client = undefined
    for (const handlers of this.channels.values()) handlers.reset()
    if (this.stopped) return
    this.logger.warn({ err: error }, 'database notifications lost; reconnecting')
    void client.end().catch(() => {})
    this.scheduleRetry(error)
  }

  private scheduleRetry(error: unknown): void {
    if (this.stopped) return
    this.failures++
    if (this.failures === 1)
      this.logger.warn({ err: error }, 'cannot listen for database notifications')
    const delay = Math.min(250 * 2 ** this.failures, 5_000)
    this.retryTimer = setTimeout(() => void this.connect(), delay)
    this.retryTimer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.retryTimer)
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => {})
  }
}
