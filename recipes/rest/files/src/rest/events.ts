import type { CommentView, PostView, UserView } from './present.js'

/**
 * What the REST features emit after each change has been committed (src/lib/events.ts). Other
 * modules react to them (notifications, realtime broadcasts, publishing to a broker) without
 * this code knowing them.
 */
declare module '../lib/events.js' {
  interface DomainEvents {
    'user.updated': { user: UserView }
    'user.deleted': { userId: string }
    'post.created': { post: PostView }
    'post.updated': { post: PostView }
    'post.deleted': { postId: string; authorId: string }
    'comment.created': { comment: CommentView; post: { id: string; authorId: string } }
  }
}
