import type { Db } from '../db/database.js'
import type { Cache } from '../lib/cache.js'
import type { EventBus } from '../lib/events.js'
import { type ListQuery, type Page, paginate } from '../lib/pagination.js'
import { type PostsService, postTags } from '../posts/service.js'
import { type CommentView, presentComment } from '../rest/present.js'

const commentsOf = (postId: string) => `comments:${postId}`

/** Comments on a post: anyone reads them, any signed-in user writes one. */
export class CommentsService {
  constructor(
    private readonly db: Db,
    private readonly posts: PostsService,
    private readonly cache: Cache,
    private readonly events: EventBus,
  ) {}

  /**
   * A page of a post's comments (cached per page). A page goes when a comment is added, when the
   * post goes, and when one of the authors on it is deleted (their comments go with them).
   */
  async list(postId: string, query: ListQuery): Promise<Page<CommentView>> {
    await this.posts.get(postId) // 404 for a post that does not exist
    const key = `${commentsOf(postId)}:${query.cursor ?? `page=${query.page ?? 1}`}:${query.limit}`
    const page = await this.cache.getOrLoad(
      key,
      {
        ttlSeconds: 60,
        tags: (p) => [
          commentsOf(postId),
          postTags.post(postId),
          ...new Set(p.data.map((c) => postTags.author(c.authorId))),
        ],
      },
      () => {
        const rows = this.db.read
          .selectFrom('comments as t')
          .select(['t.id', 't.post_id', 't.author_id', 't.body', 't.created_at'])
          .where('t.post_id', '=', postId)
        return paginate(rows, query, presentComment)
      },
    )
    return page as Page<CommentView>
  }

  async create(postId: string, body: string, actor: Express.User): Promise<CommentView> {
    const post = await this.posts.get(postId)
    const row = await this.db.write
      .insertInto('comments')
      .values({ post_id: postId, author_id: actor.id, body })
      .returningAll()
      .executeTakeFirstOrThrow()
    await this.cache.invalidateTags([commentsOf(postId)])
    const comment = presentComment(row)
    await this.events.emit('comment.created', {
      comment,
      post: { id: post.id, authorId: post.authorId },
    })
    return comment
  }
}
