import type { Kysely } from 'kysely'
import type { Db } from '../db/database.js'
import type { Database } from '../db/schema.js'
import { ConflictError, UnauthorizedError } from '../lib/errors.js'
import type { AccessTokens } from './access-tokens.js'
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js'
import type { RefreshTokens } from './refresh-tokens.js'
import type { Role } from './schema.js'
import type { TokenVersions } from './token-versions.js'

export interface Credentials {
  email: string
  password: string
}

export interface Registration extends Credentials {
  username: string
}

/** What a sign-in hands the client: an access token, and the refresh token for the cookie. */
export interface Session {
  accessToken: string
  refreshToken: string
}

/** Why authentication failed: nothing presented, or a token that is not (or no longer) valid. */
export class InvalidTokenError extends UnauthorizedError {
  constructor() {
    super('Invalid or expired access token', {
      code: 'INVALID_TOKEN',
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    })
  }
}

const invalidCredentials = () =>
  new UnauthorizedError('Invalid credentials', { code: 'INVALID_CREDENTIALS' })
const invalidRefreshToken = () =>
  new UnauthorizedError('Invalid refresh token', { code: 'INVALID_REFRESH_TOKEN' })

/** A PostgreSQL unique violation (23505), with the index it ran into. */
export function isUniqueViolation(error: unknown): error is { constraint?: string } {
  return (error as { code?: string } | null)?.code === '23505'
}

/**
 * Accounts and sessions: the rules, usable from routes, scripts and workers alike (no HTTP here).
 */
export class AuthService {
  constructor(
    private readonly db: Db,
    private readonly accessTokens: AccessTokens,
    private readonly refreshTokens: RefreshTokens,
    private readonly versions: TokenVersions,
  ) {}

  /** A new account with the `user` role; 409 when the email or username is taken. */
  async register(input: Registration) {
    try {
      return await this.db.write
        .insertInto('users')
        .values({
          email: input.email,
          username: input.username,
          password_hash: await hashPassword(input.password),
        })
        .returning(['id', 'email', 'username', 'role'])
        .executeTakeFirstOrThrow()
    } catch (error) {
      if (isUniqueViolation(error)) {
        const what = error.constraint === 'users_username_key' ? 'username' : 'email'
        throw new ConflictError(`That ${what} is already registered`)
      }
      throw error
    }
  }

  /**
   * A session for the right password. An unknown email is verified against a dummy hash: same
   * work, same time and the same 401 as a wrong password, so accounts cannot be enumerated.
   */
  async login(input: Credentials): Promise<Session> {
    const user = await this.db.write
      .selectFrom('users')
      .select(['id', 'role', 'password_hash', 'token_version'])
      .where((eb) => eb(eb.fn('lower', ['email']), '=', input.email.toLowerCase()))
      .executeTakeFirst()
    const ok = await verifyPassword(
      user?.password_hash ?? (await dummyPasswordHash()),
      input.password,
    )
    if (!user || !ok) throw invalidCredentials()
    return {
      accessToken: this.signAccessToken(user),
      refreshToken: await this.refreshTokens.issue(user.id),
    }
  }

  /** Spends a refresh token for a new session (rotation with reuse detection). */
  async refresh(refreshToken: string): Promise<Session> {
    const rotated = await this.refreshTokens.rotate(refreshToken)
    if (!rotated.ok) throw invalidRefreshToken()
    const user = await this.db.write
      .selectFrom('users')
      .select(['id', 'role', 'token_version'])
      .where('id', '=', rotated.userId)
      .executeTakeFirst()
    if (!user) throw invalidRefreshToken()
    return { accessToken: this.signAccessToken(user), refreshToken: rotated.token }
  }

  /** Ends the session a refresh token belongs to. */
  logout(refreshToken: string): Promise<void> {
    return this.refreshTokens.revoke(refreshToken)
  }

  /** Ends every session of the user, access tokens included, at once. */
  async logoutEverywhere(userId: string): Promise<void> {
    await this.db.write.transaction().execute((trx) => this.endSessions(userId, trx))
  }

  /**
   * Ends every session of a user inside `trx` (a password or role change, a deletion): refresh
   * tokens are revoked and every access token already issued stops working when it commits.
   */
  async endSessions(userId: string, trx: Kysely<Database>): Promise<void> {
    await this.versions.bump(userId, trx)
    await this.refreshTokens.revokeAllForUser(userId, trx)
  }

  /** The caller an access token stands for; InvalidTokenError when it is not valid (any more). */
  async authenticate(accessToken: string): Promise<{ id: string; role: Role }> {
    let claims: ReturnType<AccessTokens['verify']>
    try {
      claims = this.accessTokens.verify(accessToken)
    } catch {
      throw new InvalidTokenError()
    }
    // A deleted user, or one whose sessions were ended since the token was issued.
    if ((await this.versions.current(claims.userId)) !== claims.version) {
      throw new InvalidTokenError()
    }
    return { id: claims.userId, role: claims.role }
  }

  private signAccessToken(user: { id: string; role: Role; token_version: number }) {
    return this.accessTokens.sign({ userId: user.id, role: user.role, version: user.token_version })
  }
}
