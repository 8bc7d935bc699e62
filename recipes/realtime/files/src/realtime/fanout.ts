import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Server } from 'socket.io'
import type { Logger } from '../lib/logger.js'
import type {
  ClientToServerEvents,
  ServerEventName,
  ServerEvents,
  ServerToClientEvents,
} from './protocol.js'
import type { Connection } from './rooms.js'

/** The `/ws` clients of this instance, by room. */
export interface LocalRooms {
  deliver<E extends ServerEventName>(
    room: string,
    event: E,
    data: ServerEvents[E],
    exceptId?: string,
  ): void
}

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents>

/** What goes over Redis pub/sub to the `/ws` clients of the other instances. */
interface WsMessage {
  origin: string
  room: string
  event: ServerEventName
  data: unknown
}

/**
 * Sends an event to a room on every instance, over both transports:
 * - Socket.IO clients through Socket.IO's adapter (the Redis streams adapter, which reaches every
 *   instance's sockets and does not lose a broadcast while Redis is briefly away);
 * - `/ws` clients of this instance at once, and those of the other instances through one Redis
 *   pub/sub channel that each instance subscribes to (skipping what it published itself).
 *
 * The connection the event comes from (a `typing`) never receives it back.
 */
export class Fanout {
  /** Tells this instance's messages apart from the others' on the shared channel. */
  private readonly origin = randomUUID()
  private publishFailing = false

  constructor(
    private readonly io: RealtimeServer,
    private readonly local: LocalRooms,
    private readonly redis: { publisher: Redis; subscriber: Redis; channel: string },
    private readonly logger: Logger,
  ) {}

  /**
   * Subscribes to the other instances' messages for this instance's `/ws` clients. In the
   * background: the subscriber connection waits for Redis (the start must not) and subscribes
   * again after every reconnect.
   */
  start(): void {
    const { subscriber, channel } = this.redis
    subscriber.on('message', (from: string, raw: string) => {
      if (from !== channel) return
      let message: WsMessage
      try {
        message = JSON.parse(raw) as WsMessage
      } catch {
        return
      }
      if (message.origin === this.origin) return
      this.local.deliver(message.room, message.event, message.data as never)
    })
    subscriber.subscribe(channel).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'cannot subscribe to the other instances’ messages')
    })
  }

  toRoom<E extends ServerEventName>(
    room: string,
    event: E,
    data: ServerEvents[E],
    from?: Connection,
  ): void {
    const sockets =
      from?.transport === 'socket.io' ? this.io.to(room).except(from.id) : this.io.to(room)
    // Socket.IO's typed emit cannot follow a generic event name; the signature above does.
    ;(sockets.emit as (event: string, data: unknown) => boolean)(event, data)
    this.local.deliver(room, event, data, from?.transport === 'ws' ? from.id : undefined)
    const message: WsMessage = { origin: this.origin, room, event, data }
    this.redis.publisher.publish(this.redis.channel, JSON.stringify(message)).then(
      () => {
        this.publishFailing = false
      },
      (error: unknown) => {
        // Redis is down (logged by the redis module): `/ws` clients elsewhere miss this one.
        if (this.publishFailing) return
        this.publishFailing = true
        this.logger.warn({ err: error }, "cannot publish to the other instances' /ws clients")
      },
    )
  }
}
