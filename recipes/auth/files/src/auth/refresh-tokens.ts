import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import type { Logger } from '../lib/logger.js'

const digest = (token: string) => createHash('sha256').update(token).digest('base64url')

export type RotateResult =
  | { ok: true; userId: string; token: string }
  | { ok: false; reason: 'unknown' | 'expired' | 'reused' }

/**
 * Opaque refresh tokens (never JWTs, so an access token can never pass for one): 256 random
 * bits, stored only as a SHA-256 hash, in families. Each refresh rotates the token; presenting a
 * token that was already rotated means it leaked, so its whole family is revoked.
 */
export class RefreshTokens {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  /** A new token, in a new family (login) or in the family it rotates from. */
  async issue(userId: string, familyId: string = randomUUID(), db = this.db): Promise<string> {
    const token = randomBytes(32).toString('base64url')
    await db
      .insertInto('refresh_tokens')
      .values({
        user_id: userId,
        family_id: familyId,
        token_hash: digest(token),
        expires_at: new Date(Date.now() + this.ttlMs),
      })
      .execute()
    return token
  }

  /**
   * Spends `token` and issues its successor. The spend is one conditional UPDATE, so of two
   * concurrent refreshes with the same token at most one succeeds.
   */
  async rotate(token: string): Promise<RotateResult> {
    const hash = digest(token)
    const rotated = await this.db.transaction().execute(async (trx) => {
      const spent = await trx
        .updateTable('refresh_tokens')
        .set({ revoked_at: new Date() })
        .where('token_hash', '=', hash)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', new Date())
        .returning(['user_id', 'family_id'])
        .executeTakeFirst()
      if (!spent) return undefined
      return { userId: spent.user_id, token: await this.issue(spent.user_id, spent.family_id, trx) }
    })
    if (rotated) return { ok: true, ...rotated }

    const known = await this.db
      .selectFrom('refresh_tokens')
      .select(['family_id', 'user_id', 'revoked_at'])
      .where('token_hash', '=', hash)
      .executeTakeFirst()
    if (!known) return { ok: false, reason: 'unknown' }
    if (!known.revoked_at) return { ok: false, reason: 'expired' }
    await this.revokeFamily(known.family_id)
    this.logger.warn(
      { userId: known.user_id, familyId: known.family_id },
      'refresh token reused: family revoked',
    )
    return { ok: false, reason: 'reused' }
  }

  /** Logout: the token's family (this session and its rotations) stops working. */
  async revoke(token: string): Promise<void> {
    const known = await this.db
      .selectFrom('refresh_tokens')
      .select('family_id')
      .where('token_hash', '=', digest(token))
      .executeTakeFirst()
    if (known) await this.revokeFamily(known.family_id)
  }

  /** Every session of a user (password or role change, account deletion). */
  async revokeAllForUser(userId: string, db = this.db): Promise<void> {
    await db
      .updateTable('refresh_tokens')
      .set({ revoked_at: new Date() })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute()
  }

  private async revokeFamily(familyId: string): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: new Date() })
      .where('family_id', '=', familyId)
      .where('revoked_at', 'is', null)
      .execute()
  }
}
