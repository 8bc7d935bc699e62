import { z } from 'zod'
import type { CommentView } from '../rest/present.js'

/**
 * The realtime protocol, the same on both transports. A client subscribes to a post, then
 * receives the post's new comments and who is typing on it:
 *
 * | client → server | data | reply (acknowledgement) |
 * |---|---|---|
 * | `post:subscribe` | `{postId}` | `{ok: true}` or `{ok: false, error: {code, message}}` |
 * | `post:unsubscribe` | `{postId}` | `{ok: true}` |
 * | `typing` | `{postId}` | none; the others in the post's room receive `typing` |
 *
 * | server → client | data |
 * |---|---|
 * | `comment:created` | the comment, as `GET /api/posts/:id/comments` shows it |
 * | `typing` | `{postId, userId}` (never sent back to the one typing) |
 *
 * On `/ws` every frame is a JSON text frame: `{"event": "post:subscribe", "data": {…}, "ack": 1}`
 * from the client (`ack` optional: echoed in the reply `{"ack": 1, "data": {…}}`), and
 * `{"event": "comment:created", "data": {…}}` from the server.
 */

/** What the server pushes, by event name. */
export interface ServerEvents {
  'comment:created': CommentView
  typing: { postId: string; userId: string }
}

export type ServerEventName = keyof ServerEvents

/** The answer to a client's `post:subscribe` or `post:unsubscribe`. */
export type Ack = { ok: true } | { ok: false; error: { code: string; message: string } }

export const postRef = z.strictObject({ postId: z.uuid() })

/** A `/ws` frame from the client. */
export const wsFrame = z.strictObject({
  event: z.enum(['post:subscribe', 'post:unsubscribe', 'typing']),
  data: z.unknown(),
  ack: z.union([z.string().max(64), z.number().int()]).optional(),
})

export type WsFrame = z.infer<typeof wsFrame>

/** The room of a post's subscribers, on both transports and every instance. */
export const postRoom = (postId: string) => `post:${postId}`

/** Socket.IO's typed events (`socket.emit`, `socket.on`). */
export type ServerToClientEvents = {
  [E in ServerEventName]: (data: ServerEvents[E]) => void
}

export interface ClientToServerEvents {
  'post:subscribe': (data: unknown, ack?: (reply: Ack) => void) => void
  'post:unsubscribe': (data: unknown, ack?: (reply: Ack) => void) => void
  typing: (data: unknown) => void
}
