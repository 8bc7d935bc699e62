import type { Selectable } from 'kysely'
import type { PublicUser } from '../auth/schema.js'
import type { CommentsTable, PostsTable } from './schema.js'

// The response shapes: camelCase, only what a client may see, and plain JSON (dates as ISO
// strings), so a cached copy is exactly what a fresh read returns.

export const presentUser = (u: PublicUser) => ({
  id: u.id,
  email: u.email,
  username: u.username,
  role: u.role,
  createdAt: u.created_at.toISOString(),
})
export type UserView = ReturnType<typeof presentUser>

export const presentPost = (p: Selectable<PostsTable>) => ({
  id: p.id,
  authorId: p.author_id,
  title: p.title,
  body: p.body,
  createdAt: p.created_at.toISOString(),
  updatedAt: p.updated_at.toISOString(),
})
export type PostView = ReturnType<typeof presentPost>

export const presentComment = (c: Selectable<CommentsTable>) => ({
  id: c.id,
  postId: c.post_id,
  authorId: c.author_id,
  body: c.body,
  createdAt: c.created_at.toISOString(),
})
export type CommentView = ReturnType<typeof presentComment>
