import type { ColumnType, Generated, Selectable } from 'kysely'
import { z } from 'zod'
import type { Db } from '../db/database.js'
import type { DomainEvents } from '../lib/events.js'
import { type ListQuery, type Page, paginate } from '../lib/pagination.js'
import { defineJob, handleJob } from '../queues/jobs.js'
import type { StoredEvent } from '../queues/outbox.js'
import type { Queues } from '../queues/queues.js'

export interface NotificationsTable {
  id: Generated<string>
  /** Who is notified. */
  user_id: string
  kind: 'comment'
  /** The job that wrote it: a job that runs again (a worker died after the insert) adds nothing. */
  job_id: string
  post_id: string
  comment_id: string
  /** Who did what the notification is about. */
  actor_id: string
  excerpt: string
  created_at: ColumnType<Date, never, never>
  read_at: ColumnType<Date | null, never, Date | null>
}

declare module '../db/schema.js' {
  interface Database {
    notifications: NotificationsTable
  }
}

export const presentNotification = (n: Selectable<NotificationsTable>) => ({
  id: n.id,
  kind: n.kind,
  postId: n.post_id,
  commentId: n.comment_id,
  actorId: n.actor_id,
  excerpt: n.excerpt,
  createdAt: n.created_at.toISOString(),
  readAt: n.read_at?.toISOString() ?? null,
})
export type NotificationView = ReturnType<typeof presentNotification>

/** "Someone commented on your post": one job per comment, for the post's author. */
export const notifyOfComment = defineJob({
  queue: 'notifications',
  name: 'comment-created',
  schema: z.object({
    recipientId: z.uuid(),
    actorId: z.uuid(),
    postId: z.uuid(),
    commentId: z.uuid(),
    excerpt: z.string().max(200),
    requestId: z.string().optional(),
  }),
  options: { attempts: 5, backoff: { type: 'exponential', delay: 2_000 } },
})

const FOREIGN_KEY_VIOLATION = '23503'

/** A user's notifications: written by jobs in the worker, read by `GET /api/notifications`. */
export class NotificationsService {
  constructor(
    private readonly db: Db,
    private readonly queues: Queues,
  ) {}

  /** The caller's notifications, newest first, paginated like every list. */
  list(userId: string, query: ListQuery): Promise<Page<NotificationView>> {
    const rows = this.db.read
      .selectFrom('notifications as t')
      .selectAll('t')
      .where('t.user_id', '=', userId)
    return paginate(rows, query, presentNotification)
  }

  /** The job a `comment.created` event leads to (none when authors comment on their own post). */
  async enqueueFor(event: StoredEvent): Promise<void> {
    if (event.name !== 'comment.created') return
    const { comment, post } = event.payload as DomainEvents['comment.created']
    if (comment.authorId === post.authorId) return
    await this.queues.add(
      notifyOfComment,
      {
        recipientId: post.authorId,
        actorId: comment.authorId,
        postId: post.id,
        commentId: comment.id,
        excerpt: comment.body.length > 140 ? `${comment.body.slice(0, 139)}…` : comment.body,
        ...(event.requestId ? { requestId: event.requestId } : {}),
      },
      { jobId: `comment-${comment.id}` },
    )
  }

  /**
   * Writes the notification, keyed by the job id: when the job runs again (its worker was killed
   * after the insert but before BullMQ heard it had completed) nothing is written twice. A post,
   * comment or user deleted meanwhile leaves nothing to notify about.
   */
  handler() {
    return handleJob(notifyOfComment, async (data, { job, logger }) => {
      try {
        const inserted = await this.db.write
          .insertInto('notifications')
          .values({
            user_id: data.recipientId,
            kind: 'comment',
            job_id: String(job.id),
            post_id: data.postId,
            comment_id: data.commentId,
            actor_id: data.actorId,
            excerpt: data.excerpt,
          })
          .onConflict((oc) => oc.column('job_id').doNothing())
          .returning('id')
          .executeTakeFirst()
        if (!inserted) logger.info('notification written by an earlier run of this job')
        return { notificationId: inserted?.id ?? null, duplicate: !inserted }
      } catch (error) {
        if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error
        logger.info('nothing to notify: the post, comment or user is gone')
        return { notificationId: null, gone: true }
      }
    })
  }
}
