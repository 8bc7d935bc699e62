import type { Role } from '../auth/schema.js'
import { NotFoundError } from '../lib/errors.js'
import type { Logger } from '../lib/logger.js'
import type { PostsService } from '../posts/service.js'
import type { Fanout } from './fanout.js'
import { type Ack, postRef, postRoom } from './protocol.js'

/** One client connection, whichever transport carries it. */
export interface Connection {
  readonly id: string
  readonly transport: 'socket.io' | 'ws'
  readonly user: { id: string; role: Role }
  /** The post rooms it is in. */
  postRooms(): number
  has(room: string): boolean
  join(room: string): void
  leave(room: string): void
  /** When it last relayed `typing` for each post (for the throttle). */
  readonly typedAt: Map<string, number>
}

/** A connection may follow this many posts at once. */
export const MAX_POST_ROOMS = 50
/** `typing` is relayed at most this often per connection and post; the rest are dropped. */
export const TYPING_INTERVAL_MS = 1_000

const invalid = (message: string): Ack => ({
  ok: false,
  error: { code: 'VALIDATION_FAILED', message },
})

/**
 * What clients may do, the same for both transports: follow a post (any signed-in user may, as
 * anyone may read its comments; the post must exist), stop following it, and say they are typing.
 */
export class RoomCommands {
  constructor(
    private readonly posts: PostsService,
    private readonly fanout: Fanout,
    private readonly logger: Logger,
  ) {}

  async subscribe(connection: Connection, input: unknown): Promise<Ack> {
    const parsed = postRef.safeParse(input)
    if (!parsed.success) return invalid('send {postId} with the id of a post')
    const room = postRoom(parsed.data.postId)
    if (connection.has(room)) return { ok: true }
    if (connection.postRooms() >= MAX_POST_ROOMS) {
      return {
        ok: false,
        error: {
          code: 'TOO_MANY_SUBSCRIPTIONS',
          message: `follow at most ${MAX_POST_ROOMS} posts at once; unsubscribe from one first`,
        },
      }
    }
    try {
      await this.posts.get(parsed.data.postId)
    } catch (error) {
      if (error instanceof NotFoundError) {
        return { ok: false, error: { code: 'NOT_FOUND', message: 'Post not found' } }
      }
      this.logger.warn({ err: error }, 'cannot check a post for a subscription')
      return {
        ok: false,
        error: { code: 'SERVICE_UNAVAILABLE', message: 'Try again in a moment' },
      }
    }
    connection.join(room)
    return { ok: true }
  }

  unsubscribe(connection: Connection, input: unknown): Ack {
    const parsed = postRef.safeParse(input)
    if (!parsed.success) return invalid('send {postId} with the id of a post')
    connection.leave(postRoom(parsed.data.postId))
    connection.typedAt.delete(parsed.data.postId)
    return { ok: true }
  }

  /** Relayed to the others following the post, on every instance; not to the sender. */
  typing(connection: Connection, input: unknown): void {
    const parsed = postRef.safeParse(input)
    if (!parsed.success) return
    const { postId } = parsed.data
    if (!connection.has(postRoom(postId))) return
    const now = Date.now()
    if (now - (connection.typedAt.get(postId) ?? 0) < TYPING_INTERVAL_MS) return
    connection.typedAt.set(postId, now)
    this.fanout.toRoom(
      postRoom(postId),
      'typing',
      { postId, userId: connection.user.id },
      connection,
    )
  }
}
