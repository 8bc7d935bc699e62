import { canModify } from '../auth/middleware.js'
import { BatchLoader } from '../db/batch-loader.js'
import type { Db } from '../db/database.js'
import type { Cache } from '../lib/cache.js'
import { ForbiddenError, NotFoundError } from '../lib/errors.js'
import type { EventBus } from '../lib/events.js'
import { type ListQuery, type Page, paginate } from '../lib/pagination.js'
import { type PostView, presentPost } from '../rest/present.js'

export interface NewPost {
  title: string
  body: string
}

const columns = [
  't.id',
  't.author_id',
  't.title',
  't.body',
  't.created_at',
  't.updated_at',
] as const

/** Cache keys and tags of posts: an entry tagged `user:<id>` goes when its author is deleted. */
export const postTags = {
  post: (id: string) => `post:${id}`,
  author: (userId: string) => `user:${userId}`,
}

/** Posts: anyone reads them; their author or an admin changes them. */
export class PostsService {
  /** Posts by id, read together by the requests of the same moment. */
  private readonly byId = new BatchLoader(
    (ids: readonly string[]) =>
      this.db.read
        .selectFrom('posts')
        .selectAll()
        .where('id', '=', (eb) => eb.fn.any(eb.val(ids)))
        .execute(),
    (row) => row.id,
  )

  constructor(
    private readonly db: Db,
    private readonly cache: Cache,
    private readonly events: EventBus,
  ) {}

  list(query: ListQuery): Promise<Page<PostView>> {
    return paginate(this.db.read.selectFrom('posts as t').select(columns), query, presentPost)
  }

  async listByAuthor(authorId: string, query: ListQuery): Promise<Page<PostView>> {
    await this.requireUser(authorId, this.db.read)
    const rows = this.db.read
      .selectFrom('posts as t')
      .select(columns)
      .where('t.author_id', '=', authorId)
    return paginate(rows, query, presentPost)
  }

  /** The post (cached), or 404. */
  async get(id: string): Promise<PostView> {
    const post = await this.cache.getOrLoad(
      postTags.post(id),
      { ttlSeconds: 300, tags: (p) => [postTags.post(id), postTags.author(p.authorId)] },
      async () => {
        const row = await this.byId.load(id)
        return row && presentPost(row)
      },
    )
    if (!post) throw new NotFoundError('Post not found')
    return post
  }

  /** A post by `authorId`, written by them or by an admin. */
  async create(authorId: string, input: NewPost, actor: Express.User): Promise<PostView> {
    if (!canModify(actor, authorId)) throw new ForbiddenError('You may only post as yourself')
    await this.requireUser(authorId, this.db.write)
    const row = await this.db.write
      .insertInto('posts')
      .values({ author_id: authorId, title: input.title, body: input.body })
      .returningAll()
      .executeTakeFirstOrThrow()
    const post = presentPost(row)
    await this.events.emit('post.created', { post })
    return post
  }

  async update(id: string, changes: Partial<NewPost>, actor: Express.User): Promise<PostView> {
    await this.requireOwned(id, actor)
    const row = await this.db.write
      .updateTable('posts')
      .set({ ...changes, updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()
    if (!row) throw new NotFoundError('Post not found')
    await this.cache.invalidateTags([postTags.post(id)])
    const post = presentPost(row)
    await this.events.emit('post.updated', { post })
    return post
  }

  /** The post and its comments. */
  async remove(id: string, actor: Express.User): Promise<void> {
    const { author_id: authorId } = await this.requireOwned(id, actor)
    await this.db.write.deleteFrom('posts').where('id', '=', id).execute()
    await this.cache.invalidateTags([postTags.post(id)])
    await this.events.emit('post.deleted', { postId: id, authorId })
  }

  private async requireOwned(id: string, actor: Express.User): Promise<{ author_id: string }> {
    const post = await this.db.write
      .selectFrom('posts')
      .select('author_id')
      .where('id', '=', id)
      .executeTakeFirst()
    if (!post) throw new NotFoundError('Post not found')
    if (!canModify(actor, post.author_id)) {
      throw new ForbiddenError('Only its author or an admin may change a post')
    }
    return post
  }

  private async requireUser(id: string, db: Db['read']): Promise<void> {
    const user = await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()
    if (!user) throw new NotFoundError('User not found')
  }
}
