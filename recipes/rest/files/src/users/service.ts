import { canModify } from '../auth/middleware.js'
import { hashPassword, verifyPassword } from '../auth/passwords.js'
import { publicUserColumns, type Role } from '../auth/schema.js'
import { type AuthService, isUniqueViolation } from '../auth/service.js'
import { BatchLoader } from '../db/batch-loader.js'
import type { Db } from '../db/database.js'
import type { Cache } from '../lib/cache.js'
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../lib/errors.js'
import type { EventBus } from '../lib/events.js'
import { type ListQuery, type Page, paginate } from '../lib/pagination.js'
import { presentUser, type UserView } from '../rest/present.js'

export interface UserChanges {
  email?: string | undefined
  username?: string | undefined
  password?: string | undefined
  role?: Role | undefined
  /** Required to change your own password or email. */
  currentPassword?: string | undefined
}

/** What a caller may see of a user: the email only of themself, or of anyone as an admin. */
export type VisibleUser = UserView | Omit<UserView, 'email'>

function visibleTo(viewer: Express.User, user: UserView): VisibleUser {
  if (viewer.role === 'admin' || viewer.id === user.id) return user
  const { email: _hidden, ...profile } = user
  return profile
}

const cacheKey = (id: string) => `user:${id}`

/**
 * Users: who may see and change what. Changing your own password or email needs your current
 * password (a stolen access token must not take the account over); a new password or role ends
 * every session of the user at once.
 */
export class UsersService {
  /** Users by id, read together by the requests of the same moment. */
  private readonly byId = new BatchLoader(
    (ids: readonly string[]) =>
      this.db.read
        .selectFrom('users')
        .select(publicUserColumns)
        .where('id', '=', (eb) => eb.fn.any(eb.val(ids)))
        .execute(),
    (row) => row.id,
  )

  constructor(
    private readonly db: Db,
    private readonly auth: AuthService,
    private readonly cache: Cache,
    private readonly events: EventBus,
  ) {}

  async list(query: ListQuery, viewer: Express.User): Promise<Page<VisibleUser>> {
    const rows = this.db.read
      .selectFrom('users as t')
      .select(publicUserColumns.map((c) => `t.${c}` as const))
    return paginate(rows, query, (row) => visibleTo(viewer, presentUser(row)))
  }

  async get(id: string, viewer: Express.User): Promise<VisibleUser> {
    return visibleTo(viewer, await this.find(id))
  }

  async update(id: string, changes: UserChanges, actor: Express.User): Promise<VisibleUser> {
    if (!canModify(actor, id)) throw new ForbiddenError('You may only change your own account')
    const { password, role, currentPassword, ...profile } = changes
    if (role !== undefined && actor.role !== 'admin') {
      throw new ForbiddenError('Only an admin may change roles')
    }
    const current = await this.db.write
      .selectFrom('users')
      .select(['email', 'role', 'password_hash'])
      .where('id', '=', id)
      .executeTakeFirst()
    if (!current) throw new NotFoundError('User not found')
    const emailChanges =
      profile.email !== undefined && profile.email.toLowerCase() !== current.email.toLowerCase()
    if (actor.id === id && (password !== undefined || emailChanges)) {
      await this.checkCurrentPassword(current.password_hash, currentPassword)
    }
    const endsSessions = password !== undefined || (role !== undefined && role !== current.role)
    try {
      const updated = await this.db.write.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('users')
          .set({
            ...profile,
            ...(role ? { role } : {}),
            ...(password ? { password_hash: await hashPassword(password) } : {}),
            updated_at: new Date(),
          })
          .where('id', '=', id)
          .returning(publicUserColumns)
          .executeTakeFirst()
        if (!row) throw new NotFoundError('User not found')
        if (endsSessions) await this.auth.endSessions(id, trx)
        return row
      })
      await this.cache.invalidateTags([cacheKey(id)])
      const user = presentUser(updated)
      await this.events.emit('user.updated', { user })
      return visibleTo(actor, user)
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError('That email or username is already taken')
      throw error
    }
  }

  /** Admins only: the account, its posts and comments go, and its tokens stop working at once. */
  async remove(id: string, actor: Express.User): Promise<void> {
    if (actor.role !== 'admin') throw new ForbiddenError('Only an admin may delete users')
    await this.db.write.transaction().execute(async (trx) => {
      await this.auth.endSessions(id, trx)
      const deleted = await trx.deleteFrom('users').where('id', '=', id).executeTakeFirst()
      if (deleted.numDeletedRows === 0n) throw new NotFoundError('User not found')
    })
    // Their own entry, and what showed their posts and comments.
    await this.cache.invalidateTags([cacheKey(id)])
    await this.events.emit('user.deleted', { userId: id })
  }

  /** The user (cached), or 404. */
  async find(id: string): Promise<UserView> {
    const user = await this.cache.getOrLoad(
      cacheKey(id),
      { ttlSeconds: 300, tags: [cacheKey(id)] },
      async () => {
        const row = await this.byId.load(id)
        return row && presentUser(row)
      },
    )
    if (!user) throw new NotFoundError('User not found')
    return user
  }

  private async checkCurrentPassword(hash: string, given: string | undefined): Promise<void> {
    if (given === undefined) {
      throw new ValidationError([
        {
          path: 'body.currentPassword',
          message: 'is required to change your own password or email',
          code: 'required',
        },
      ])
    }
    if (!(await verifyPassword(hash, given))) {
      throw new ForbiddenError('The current password is not right', {
        code: 'INVALID_CURRENT_PASSWORD',
      })
    }
  }
}
