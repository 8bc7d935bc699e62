import { Redis, type RedisOptions } from 'ioredis'
import type { Logger } from '../lib/logger.js'

export interface RedisSettings {
  url: string
  /** Every key the service writes starts with it (backendkit.json `redis.keyPrefix`). */
  keyPrefix: string
  /** How long a command on a request path may take before it fails. */
  commandTimeoutMs: number
  /** Shown in CLIENT LIST, e.g. `my-api`. */
  name: string
}

/**
 * What a connection is for decides how it behaves while Redis is unreachable:
 * - `subscriber`: SUBSCRIBE only (a subscribed connection can run nothing else); it waits for
 *   Redis and subscribes again after every reconnect;
 * - `worker`: BullMQ workers and other blocking commands; they wait for Redis instead of failing
 *   (BullMQ requires `maxRetriesPerRequest: null` on them, and a connection of their own).
 */
export type ConnectionRole = 'subscriber' | 'worker'

/** Reconnect forever, quickly at first, then every 2 s (with jitter, so instances spread out). */
const reconnectDelay = (attempt: number) =>
  Math.min(50 * 2 ** attempt, 2_000) + Math.floor(Math.random() * 100)

/**
 * The service's Redis connections. `client` serves request paths: while Redis is unreachable
 * its commands fail at once (no offline queue, one attempt, a timeout), so a request never hangs
 * on Redis; it reconnects in the background. Other roles get connections of their own from
 * `connect()`. Every connection is closed by `close()`, and an outage is logged once when it
 * starts and once when it ends, not on every reconnect attempt.
 */
export class RedisConnections {
  readonly client: Redis
  readonly prefix: string
  private readonly connections: Redis[] = []

  constructor(
    private readonly settings: RedisSettings,
    private readonly logger: Logger,
  ) {
    this.prefix = settings.keyPrefix
    this.client = this.open('commands', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: settings.commandTimeoutMs,
      // No auto-pipelining: the callers batch their own work per turn of the event loop (one
      // rate-limit script call, one read per cached key in flight), and each auto-pipeline is a
      // new ioredis Pipeline that copies every Lua command defined on this client (BullMQ's
      // producers define 60+): with it, a cached read cost 4 µs more.
    })
  }

  /** `key('rl', 'default', 'ip:203.0.113.7')` → `<prefix>rl:default:ip:203.0.113.7` */
  key(...parts: string[]): string {
    return this.prefix + parts.join(':')
  }

  /** True while the command connection can serve. */
  get ready(): boolean {
    return this.client.status === 'ready'
  }

  /**
   * Resolves once the command connection is ready (true), or false when its first attempt fails
   * (nothing listens there: no use waiting) or after `timeoutMs` (a Redis that does not answer).
   */
  async waitUntilReady(timeoutMs: number): Promise<boolean> {
    if (this.ready) return true
    return new Promise((resolve) => {
      const done = (ready: boolean) => {
        clearTimeout(timer)
        this.client.off('ready', onReady)
        this.client.off('error', onError)
        resolve(ready)
      }
      const onReady = () => done(true)
      const onError = () => done(false)
      const timer = setTimeout(() => done(false), timeoutMs)
      this.client.once('ready', onReady)
      this.client.once('error', onError)
    })
  }

  /** A connection of its own for `role`, closed with the others. */
  connect(role: ConnectionRole): Redis {
    return this.open(role, { maxRetriesPerRequest: null, enableOfflineQueue: true })
  }

  /** Quits every connection (or drops it, when Redis cannot be reached to say goodbye). */
  async close(): Promise<void> {
    await Promise.all(this.connections.map((connection) => closeConnection(connection)))
  }

  private open(role: string, options: RedisOptions): Redis {
    const connection = new Redis(this.settings.url, {
      connectionName: `${this.settings.name}:${role}`,
      connectTimeout: 2_000,
      retryStrategy: reconnectDelay,
      ...options,
    })
    let down = false
    connection.on('error', (error) => {
      if (down) return
      down = true
      this.logger.warn({ err: error, connection: role }, 'Redis unreachable; reconnecting')
    })
    connection.on('ready', () => {
      if (!down) return
      down = false
      this.logger.info({ connection: role }, 'Redis reachable again')
    })
    this.connections.push(connection)
    return connection
  }
}

/**
 * QUIT when connected; otherwise drop the connection. Waits (a second at most) until it is
 * closed, so nothing is left open when shutdown ends. A connection between reconnect attempts
 * has no socket: dropping it cancels the next attempt, and ioredis reports no `end` for it.
 */
async function closeConnection(connection: Redis): Promise<void> {
  if (connection.status === 'end') return
  const hasSocket = ['connecting', 'connect', 'ready'].includes(connection.status)
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1_000)
    connection.once('end', () => {
      clearTimeout(timer)
      resolve()
    })
  })
  if (connection.status === 'ready') {
    await connection.quit().catch(() => connection.disconnect())
  } else {
    connection.disconnect()
  }
  if (hasSocket) await ended
}
