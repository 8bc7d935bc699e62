import type { Redis } from 'ioredis'
import type { Logger } from '../lib/logger.js'
import { type MaintenanceState, parseMaintenanceState } from './state.js'

export interface MaintenanceWatcherOptions {
  /** The request-path client: fails fast while Redis is down. */
  client: Redis
  /** A connection of its own for the announcements (a subscribed connection does nothing else). */
  subscriber: Redis
  /** `<prefix>maintenance`: the key, and the channel `backendkit down`/`up` announce on. */
  key: string
  /** How often the key is read whatever was announced. */
  intervalMs: number
  logger: Logger
}

/**
 * Whether this instance is in maintenance, known without I/O on the request path: the key is
 * read once per `intervalMs` and when `backendkit down`/`up` announce a change (so instances
 * switch within milliseconds, and within `intervalMs` if the announcement is lost). While Redis
 * cannot be reached, the last state read holds: a service in maintenance stays down, a serving
 * one keeps serving.
 */
export class MaintenanceWatcher {
  #state: MaintenanceState | null = null
  #checking: Promise<void> | undefined
  #failing = false
  #timer: NodeJS.Timeout | undefined
  readonly #options: MaintenanceWatcherOptions

  constructor(options: MaintenanceWatcherOptions) {
    this.#options = options
  }

  /** The state last read; null when the service is serving. */
  get state(): MaintenanceState | null {
    return this.#state
  }

  /** Reads the key once (so an instance starting during maintenance starts down), then watches. */
  async start(): Promise<void> {
    const { subscriber, key, intervalMs, logger } = this.#options
    await this.check()
    subscriber.on('message', this.#onMessage)
    subscriber.subscribe(key).catch((error: unknown) => {
      logger.warn({ err: error }, 'cannot subscribe to maintenance announcements; polling only')
    })
    this.#timer = setInterval(() => void this.check(), intervalMs)
    this.#timer.unref()
  }

  /** Reads the key now; one read at a time. Never rejects. */
  check(): Promise<void> {
    this.#checking ??= this.#read().finally(() => {
      this.#checking = undefined
    })
    return this.#checking
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#options.subscriber.off('message', this.#onMessage)
    await this.#checking
  }

  readonly #onMessage = (channel: string) => {
    if (channel === this.#options.key) void this.check()
  }

  async #read(): Promise<void> {
    const { client, key, logger } = this.#options
    try {
      const next = parseMaintenanceState(await client.get(key))
      if (this.#failing) {
        this.#failing = false
        logger.info('maintenance state readable again')
      }
      if ((next === null) !== (this.#state === null)) {
        if (next) logger.warn({ since: next.since, by: next.by }, 'maintenance mode on')
        else logger.info('maintenance mode off')
      }
      this.#state = next
    } catch (error) {
      if (this.#failing) return
      this.#failing = true
      logger.warn(
        { err: error, maintenance: this.#state !== null },
        'cannot read the maintenance state; the last known one holds',
      )
    }
  }
}
